"""An overlay video of a curated clip for a person to look at, readable without the docs: the person tinted and
outlined, the skeleton, the background tracks coloured by `track_mask`, the camera's motion as a glyph, and below
the frame a panel with the label (frame, camera label) and a legend.

| element | drawn as |
| --- | --- |
| kept track (in `track_mask`) | green dot with a short trail |
| masked-out track (visible, but on or next to a person, or not explained by the camera) | orange dot, no trail |
| person (the foreground mask) | magenta tint with a solid magenta outline |
| skeleton | OpenPose-style limbs in a colour per person, white joints (small filled dots) |
| camera motion | a cyan ring (never filled, larger than a joint) at the image centre, and a cyan arrow out of it |
| roll | a cyan arc around the ring with an arrowhead, turning the way the background turns |

The arrow points where the frame-0 background at the centre moves in the next frame, magnified `arrow_gain` times;
the arc's sweep grows with the rotation per frame (`roll_gain` degrees of arc per degree).

Tracks that are not visible are not drawn. The panel is a strip below the frame (the video is taller than the clip,
by a multiple of 4 pixels) so that neither the label nor the legend hides the clip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from curation.person import wholebody as wb

KEPT, MASKED = (60, 220, 60), (255, 150, 0)
PERSON = (235, 40, 210)
MASK_TINT = np.array(PERSON, np.float32)
MASK_ALPHA = 0.5  # share of the tint in a masked pixel
CAMERA = (0, 220, 255)
PANEL, TEXT = (24, 24, 24), (255, 255, 255)
PERSON_COLOURS = ((255, 80, 80), (80, 160, 255), (255, 220, 60), (180, 90, 255))
FONT, FONT_SCALE, ROW = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 16  # panel text and row height in pixels
RETICLE_RADIUS = 9  # joints are drawn with radius 3
ROLL_MIN_DEGREES = 0.1  # rotation per frame below which no roll glyph is drawn
MIN_ARROW_PX = 0.05  # motion of the centre per frame below which no arrow is drawn
LEGEND = (("kept track", KEPT), ("masked-out track", MASKED), ("person", PERSON), ("camera motion", CAMERA))
# A curated clip's members that `overlay_frame` draws, named as curation records and shard samples name them.
CLIP_LAYERS = ("pose", "fgmask", "tracks", "visible", "track_mask", "camera")


@dataclass(frozen=True)
class LegendEntry:
    name: str
    colour: tuple[int, int, int]
    swatch: tuple[int, int]  # centre of its swatch, in panel pixels (x, y)
    text_origin: tuple[int, int]


def _project(h: np.ndarray, point: np.ndarray) -> np.ndarray:
    x, y, w = h @ np.array([point[0], point[1], 1.0])
    return np.array([x / w, y / w])


def legend_layout(width: int) -> tuple[list[LegendEntry], int]:
    """Where each legend entry goes in a panel `width` pixels wide (entries flow into rows below the label row),
    and the panel's height (a multiple of 4, so the overlay frame keeps even sizes for H.264)."""
    entries, x, row = [], 6, 1
    for name, colour in LEGEND:
        span = 22 + cv2.getTextSize(name, FONT, FONT_SCALE, 1)[0][0] + 12
        if x > 6 and x + span > width:
            x, row = 6, row + 1
        y = row * ROW + ROW // 2
        entries.append(LegendEntry(name, colour, (x + 6, y), (x + 20, y + 4)))
        x += span
    height = (row + 1) * ROW + 4
    return entries, height + (-height) % 4


def draw_legend_swatch(image: np.ndarray, entry: LegendEntry) -> None:
    x, y = entry.swatch
    if entry.colour == PERSON:
        cv2.rectangle(image, (x - 5, y - 5), (x + 5, y + 5), PERSON, -1)
    elif entry.colour == CAMERA:
        cv2.circle(image, (x, y), 5, CAMERA, 1, cv2.LINE_AA)
        cv2.line(image, (x + 5, y), (x + 8, y), CAMERA, 2)
    else:
        cv2.circle(image, (x, y), 3, entry.colour, -1)


def render_panel(width: int, label: str) -> np.ndarray:
    """The panel below a frame: the label on the first row, the legend below it."""
    entries, height = legend_layout(width)
    panel = np.full((height, width, 3), PANEL, np.uint8)
    if cv2.getTextSize(label, FONT, FONT_SCALE, 1)[0][0] > width - 8:
        label = label.replace("  camera: ", " ")  # a narrow clip: the short form
    cv2.putText(panel, label, (6, ROW - 4), FONT, FONT_SCALE, TEXT, 1, cv2.LINE_AA)
    for entry in entries:
        draw_legend_swatch(panel, entry)
        cv2.putText(panel, entry.name, entry.text_origin, FONT, FONT_SCALE, TEXT, 1, cv2.LINE_AA)
    return panel


def draw_skeleton(image: np.ndarray, keypoints: np.ndarray, confidence: float = 0.3, thickness: int = 2) -> None:
    """OpenPose-style body limbs and joints of persons [P, 133, 3] onto an RGB image, in place."""
    for p, person in enumerate(keypoints):
        colour = PERSON_COLOURS[p % len(PERSON_COLOURS)]
        for a, b in wb.BODY_LIMBS:
            if person[a, 2] >= confidence and person[b, 2] >= confidence:
                cv2.line(
                    image,
                    tuple(np.round(person[a, :2]).astype(int)),
                    tuple(np.round(person[b, :2]).astype(int)),
                    colour,
                    thickness,
                    cv2.LINE_AA,
                )
        for x, y, c in person[: wb.BODY.stop]:
            if c >= confidence:
                cv2.circle(image, (round(float(x)), round(float(y))), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)


def tint_person(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The frame with the mask tinted and outlined (float in, uint8 out)."""
    image = image.astype(np.float32)
    image[mask] = (1 - MASK_ALPHA) * image[mask] + MASK_ALPHA * MASK_TINT
    image = np.clip(image, 0, 255).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(image, contours, -1, PERSON, 2, cv2.LINE_AA)
    return image


def roll_degrees(before: np.ndarray, after: np.ndarray) -> float:
    """The background's rotation from one frame to the next (degrees, counter-clockwise on screen positive), from
    the homographies frame 0 -> t of both."""
    step = after @ np.linalg.inv(before)
    return -math.degrees(math.atan2(step[1, 0] - step[0, 1], step[0, 0] + step[1, 1]))


def _stroke(draw: Callable[[tuple[int, int, int], int], object], thickness: int = 2) -> None:
    """A glyph element in cyan over a dark halo, so it reads on any background."""
    draw((0, 0, 0), thickness + 2)
    draw(CAMERA, thickness)


def draw_camera(image: np.ndarray, step: np.ndarray, roll: float, arrow_gain: float, roll_gain: float) -> None:
    """The camera glyph at the image centre: ring, arrow for the centre's motion, arc for a roll."""
    height, width = image.shape[:2]
    centre = (width // 2, height // 2)
    _stroke(lambda colour, thick: cv2.circle(image, centre, RETICLE_RADIUS, colour, thick, cv2.LINE_AA))
    speed = float(np.hypot(*step))
    if speed > MIN_ARROW_PX:  # from the ring outwards, its length beyond the ring the magnified motion
        unit = step / speed
        base = tuple(np.round(np.asarray(centre) + RETICLE_RADIUS * unit).astype(int))
        tip = tuple(np.round(np.asarray(centre) + (RETICLE_RADIUS + max(6.0, arrow_gain * speed)) * unit).astype(int))
        _stroke(lambda colour, thick: cv2.arrowedLine(image, base, tip, colour, thick, cv2.LINE_AA, tipLength=0.4))
    if abs(roll) >= ROLL_MIN_DEGREES:
        radius = RETICLE_RADIUS + 7
        sweep = float(np.clip(abs(roll) * roll_gain, 90.0, 300.0))
        # OpenCV's angles run clockwise on screen (y down); a counter-clockwise roll sweeps the other way.
        start, end = (-90.0, -90.0 - sweep) if roll > 0 else (-90.0, -90.0 + sweep)
        angle = math.radians(end)
        head = np.array([centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle)])
        along = np.array([-math.sin(angle), math.cos(angle)]) * (1 if roll < 0 else -1)  # direction of travel
        wings = [head - 5 * along + 4 * side * np.array([math.cos(angle), math.sin(angle)]) for side in (-1, 1)]
        tip = tuple(np.round(head).astype(int))

        def arc(colour: tuple[int, int, int], thick: int) -> None:
            cv2.ellipse(image, centre, (radius, radius), 0, start, end, colour, thick, cv2.LINE_AA)
            for wing in wings:
                cv2.line(image, tip, tuple(np.round(wing).astype(int)), colour, thick)

        _stroke(arc)


def overlay_frame(
    frames: np.ndarray,
    t: int,
    *,
    pose: np.ndarray | None = None,
    fgmask: np.ndarray | None = None,
    tracks: np.ndarray | None = None,
    visible: np.ndarray | None = None,
    track_mask: np.ndarray | None = None,
    camera: np.ndarray | None = None,
    label: str | None = None,
    trail: int = 6,
    arrow_gain: float = 8.0,
    roll_gain: float = 120.0,
    legend: bool = True,
) -> np.ndarray:
    """Overlay frame `t` of a clip: uint8 [H + panel, W, 3] (with `legend`), else [H, W, 3]; any layer may be left
    out."""
    count = len(frames)
    if not 0 <= t < count:
        raise ValueError(f"frame {t} is outside the clip's {count} frames")
    image = tint_person(frames[t], fgmask[t]) if fgmask is not None else frames[t].copy()
    if tracks is not None and visible is not None:
        keep = track_mask if track_mask is not None else visible
        kept = keep[t]
        start = max(0, t - trail)
        for n in np.flatnonzero(kept):
            points = np.round(tracks[start : t + 1, n][keep[start : t + 1, n]]).astype(np.int32)
            if len(points) > 1:
                cv2.polylines(image, [points.reshape(-1, 1, 2)], False, KEPT, 1, cv2.LINE_AA)
            cv2.circle(image, tuple(np.round(tracks[t, n]).astype(int)), 2, KEPT, -1, cv2.LINE_AA)
        for n in np.flatnonzero(visible[t] & ~kept):
            cv2.circle(image, tuple(np.round(tracks[t, n]).astype(int)), 2, MASKED, -1, cv2.LINE_AA)
    if pose is not None:
        draw_skeleton(image, pose[t])
    if camera is not None:
        height, width = image.shape[:2]
        centre = np.array([width / 2, height / 2])
        nxt = min(t + 1, count - 1)
        step = _project(camera[nxt], centre) - _project(camera[t], centre) if nxt > t else np.zeros(2)
        roll = roll_degrees(camera[t], camera[nxt]) if nxt > t else 0.0
        draw_camera(image, step, roll, arrow_gain, roll_gain)
    if not legend:
        return image
    text = f"{t + 1}/{count}" + (f"  camera: {label}" if label else "")
    return np.concatenate([image, render_panel(image.shape[1], text)], axis=0)


def overlay_frames(frames: np.ndarray, **layers) -> Iterator[np.ndarray]:
    """Every overlay frame of a clip (see `overlay_frame` for the layers and options)."""
    for t in range(len(frames)):
        yield overlay_frame(frames, t, **layers)


def overlay_layers(clip: Mapping[str, Any], label: str | None) -> dict[str, Any]:
    """`overlay_frame`'s layers of a curated clip (a curation record, or a shard sample's decoded members: numpy
    arrays or CPU tensors) as numpy arrays, with `label` (the camera label) for the panel."""
    return {name: np.asarray(clip[name]) for name in CLIP_LAYERS} | {"label": label}
