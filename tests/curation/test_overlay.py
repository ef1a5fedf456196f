"""The overlay reads without the docs: one frame rendered, its legend's swatches and label panel checked pixel by
pixel, the person tint visible, the camera glyph a ring (not a joint) with an arc for a roll."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from curation.overlay import (
    CAMERA,
    KEPT,
    LEGEND,
    MASKED,
    PANEL,
    PERSON,
    RETICLE_RADIUS,
    legend_layout,
    overlay_frame,
    roll_degrees,
)

H, W, T = 96, 160, 4


def _rotation(degrees: float, t: int) -> np.ndarray:
    """Homography frame 0 -> t of a background turning `degrees` per frame about the image centre (screen
    counter-clockwise positive)."""
    a = -math.radians(degrees * t)  # image y points down: a counter-clockwise turn on screen is a negative angle
    c, s = math.cos(a), math.sin(a)
    cx, cy = W / 2, H / 2
    return np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]])


def _colour_pixels(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(image == np.array(colour, np.uint8), axis=-1)


def test_one_frame_has_its_legend_and_label_panel() -> None:
    frames = np.full((T, H, W, 3), 128, np.uint8)
    image = overlay_frame(frames, 1, label="roll")
    entries, height = legend_layout(W)
    assert image.shape == (H + height, W, 3) and height % 4 == 0
    np.testing.assert_array_equal(image[:H], frames[1])  # no layer given: the clip itself is untouched
    panel = image[H:]
    assert [e.name for e in entries] == [name for name, _ in LEGEND]
    for entry in entries:  # each swatch shows its colour where the layout puts it
        x, y = entry.swatch
        if entry.colour == CAMERA:
            x += 4  # the camera swatch is a ring with a stroke: its centre is the panel colour, the stroke is not
        assert tuple(panel[y, x]) == entry.colour, (entry.name, panel[y, x])
    for colour in (KEPT, MASKED, PERSON, CAMERA):
        assert _colour_pixels(panel, colour).sum() >= 4, colour
    # The label sits on the panel's dark box, drawn once in white: inside the row, every pixel is the box colour or
    # a grey between it and white (anti-aliasing), never a darker outline stroke (the old "rolll").
    row = panel[:16].astype(int)
    text = np.any(row != np.array(PANEL), axis=-1)
    assert text.sum() > 20
    grey = row[text]
    assert (np.abs(grey[:, 0] - grey[:, 1]) <= 2).all() and (grey >= min(PANEL)).all()
    (width, _), _ = cv2.getTextSize("2/4  camera: roll", cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    columns = np.flatnonzero(text.any(axis=0))
    assert columns.min() >= 6 and columns.max() <= 6 + width + 1  # no stroke beyond the text's own extent


def test_person_tint_is_visible_and_outlined() -> None:
    frames = np.full((T, H, W, 3), 128, np.uint8)
    mask = np.zeros((T, H, W), bool)
    mask[:, 30:70, 60:100] = True
    image = overlay_frame(frames, 0, fgmask=mask, legend=False)
    inside = image[35:65, 65:95].reshape(-1, 3).astype(float)
    assert np.linalg.norm(inside.mean(axis=0) - 128) > 80  # far from the grey it tints
    assert _colour_pixels(image, PERSON)[28:72, 58:102].sum() > 100  # a solid outline in the person's colour
    assert (image[:25] == 128).all()  # nothing outside the person


def test_camera_glyph_is_a_ring_with_an_arrow_and_an_arc_for_a_roll() -> None:
    frames = np.full((T, H, W, 3), 90, np.uint8)
    pan = np.stack([np.array([[1, 0, -2.0 * t], [0, 1, 0], [0, 0, 1]]) for t in range(T)])
    image = overlay_frame(frames, 0, camera=pan, legend=False)
    cyan = _colour_pixels(image, CAMERA)
    cy, cx = H // 2, W // 2
    ys, xs = np.nonzero(cyan)
    distance = np.hypot(ys - cy, xs - cx)
    assert not cyan[cy, cx]  # a ring, not a filled dot like a joint
    assert (np.abs(distance - RETICLE_RADIUS) <= 1.5).sum() > 20
    assert (xs < cx - RETICLE_RADIUS - 3).sum() > 5 and (xs > cx + RETICLE_RADIUS + 3).sum() == 0  # arrow: left
    off_arrow = np.abs(ys - cy) > 6  # the arrow runs left along the centre row
    assert not ((np.abs(distance - RETICLE_RADIUS - 7) <= 1.5) & off_arrow).any()  # no arc without a roll
    assert roll_degrees(_rotation(2.0, 0), _rotation(2.0, 1)) == pytest.approx(2.0)
    roll = np.stack([_rotation(0.5, t) for t in range(T)])  # a slow roll: the shortest arc, a quarter turn
    image = overlay_frame(frames, 0, camera=roll, legend=False)
    ys, xs = np.nonzero(_colour_pixels(image, CAMERA))
    arc = np.abs(np.hypot(ys - cy, xs - cx) - RETICLE_RADIUS - 7) <= 1.5
    assert arc.sum() > 20
    # counter-clockwise from the top: the arc covers the left side of the ring, not the right
    assert (xs[arc] < cx - 5).sum() > 10 and (xs[arc] > cx + 5).sum() == 0
