"""The synthetic source's ground truth is exact: checked on raw (pre-encoding) frames, with negative controls
showing each check fails on a wrong homography, a shifted keypoint or a mask missing a limb."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from curation.motion import camera_labels as cm
from curation.person import wholebody as wb
from curation.synthetic.camera_paths import CAMERA_RECIPES
from curation.synthetic.clip import RenderedClip, SynthConfig, render_clip

CONFIG = SynthConfig(width=384, height=320, frames=32, fps=24.0, grid_step=16)
KERNEL = np.ones((5, 5), np.uint8)  # 2-pixel margin around occluder edges and the warped frame border


@pytest.fixture(scope="module")
def clips() -> list[RenderedClip]:
    """One clip per camera recipe (every label and compound kind), seed 7."""
    return [render_clip(7, i, CONFIG) for i in range(len(CAMERA_RECIPES))]


def background_psnr(clip: RenderedClip, t: int, homography: np.ndarray) -> tuple[float, int]:
    """PSNR of frame 0 warped by `homography` against frame t, over background-plane pixels visible in both."""
    size = (CONFIG.width, CONFIG.height)
    frame0 = clip.frames[0].astype(np.float32)
    warped = cv2.warpPerspective(frame0, homography, size, flags=cv2.INTER_LINEAR)
    source_ok = 1 - cv2.dilate(clip.plane_occluded[0].astype(np.uint8), KERNEL)
    source_ok = cv2.warpPerspective(source_ok, homography, size, flags=cv2.INTER_NEAREST, borderValue=0)
    valid = (cv2.erode(source_ok, KERNEL) > 0) & (cv2.dilate(clip.plane_occluded[t].astype(np.uint8), KERNEL) == 0)
    error = np.mean((warped[valid] - clip.frames[t][valid].astype(np.float32)) ** 2)
    return float(10 * np.log10(255.0**2 / max(error, 1e-12))), int(valid.sum())


def test_homography_warps_frame0_onto_background(clips: list[RenderedClip]) -> None:
    for clip in clips:
        for t in range(1, CONFIG.frames, 5):
            psnr, pixels = background_psnr(clip, t, clip.homographies[t].astype(np.float64))
            assert pixels > 0.15 * CONFIG.width * CONFIG.height, (clip.metadata["camera_label"], t, pixels)
            assert psnr >= 35.0, (clip.metadata["camera_label"], t, psnr)


def test_wrong_homography_is_caught(clips: list[RenderedClip]) -> None:
    t = CONFIG.frames - 1
    for clip in clips:
        truth = clip.homographies[t].astype(np.float64)
        one_pixel_off = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ truth
        assert background_psnr(clip, t, one_pixel_off)[0] < 35.0, clip.metadata["camera_label"]
        # Using the identity for a moving camera (a "frozen background") is caught too.
        if clip.metadata["camera_label"] != cm.STATIC:
            assert background_psnr(clip, t, np.eye(3))[0] < 35.0, clip.metadata["camera_label"]


def keypoints_outside(keypoints: np.ndarray, masks: np.ndarray, margin: int = 3) -> tuple[int, int]:
    """(outside, total) over confident keypoints of all persons and frames, against the dilated union mask."""
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    outside = total = 0
    for t in range(len(keypoints)):
        grown = cv2.dilate(masks[t].astype(np.uint8), kernel)
        points = keypoints[t][keypoints[t, ..., 2] > 0.5][:, :2]
        xi, yi = np.round(points[:, 0]).astype(int), np.round(points[:, 1]).astype(int)
        outside += int((grown[yi, xi] == 0).sum())
        total += len(points)
    return outside, total


def bones_outside(keypoints: np.ndarray, masks: np.ndarray, margin: int = 3) -> int:
    """Points sampled along every skeleton limb whose two ends are confident, lying outside the dilated mask."""
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    height, width = masks.shape[1:]
    outside = 0
    fractions = np.linspace(0, 1, 9)[:, None]
    for t in range(len(keypoints)):
        grown = cv2.dilate(masks[t].astype(np.uint8), kernel)
        for person in keypoints[t]:
            for a, b in wb.BODY_LIMBS:
                if person[a, 2] > 0.5 and person[b, 2] > 0.5:
                    points = person[a, :2] + fractions * (person[b, :2] - person[a, :2])
                    xi = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
                    yi = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
                    outside += int((grown[yi, xi] == 0).sum())
    return outside


def test_confident_keypoints_and_limbs_lie_inside_the_mask(clips: list[RenderedClip]) -> None:
    for clip in clips:
        outside, total = keypoints_outside(clip.keypoints, clip.person_masks)
        assert total > 0.5 * CONFIG.frames * 23 * clip.keypoints.shape[1]
        assert outside == 0, (clip.metadata["camera_label"], outside, total)
        assert bones_outside(clip.keypoints, clip.person_masks) == 0, clip.metadata["camera_label"]


def test_shifted_keypoints_are_caught(clips: list[RenderedClip]) -> None:
    shifted = clips[0].keypoints.copy()
    shifted[..., 0] += 15.0
    outside, total = keypoints_outside(shifted, clips[0].person_masks)
    assert outside > 0.05 * total


def test_mask_missing_a_limb_is_caught(clips: list[RenderedClip]) -> None:
    clip = clips[0]
    masks = clip.person_masks.copy()
    elbow, wrist = wb.INDEX["left_elbow"], wb.INDEX["left_wrist"]
    for t in range(CONFIG.frames):
        a, b = clip.keypoints[t, 0, elbow, :2], clip.keypoints[t, 0, wrist, :2]
        erased = np.zeros(masks.shape[1:], np.uint8)
        cv2.line(erased, tuple(int(v) for v in np.round(a)), tuple(int(v) for v in np.round(b)), 1, thickness=31)
        masks[t] &= erased == 0
    assert bones_outside(clip.keypoints, masks) > 0


def test_visible_tracks_lie_outside_every_person(clips: list[RenderedClip]) -> None:
    for clip in clips:
        x, y = clip.tracks[..., 0], clip.tracks[..., 1]
        inside = (x >= 0) & (x <= CONFIG.width - 1) & (y >= 0) & (y <= CONFIG.height - 1)
        xi = np.clip(np.round(x).astype(int), 0, CONFIG.width - 1)
        yi = np.clip(np.round(y).astype(int), 0, CONFIG.height - 1)
        frames = np.arange(CONFIG.frames)[:, None]
        on_person = clip.person_masks[frames, yi, xi]
        occluded = clip.plane_occluded[frames, yi, xi]
        assert clip.visible.mean() > 0.3
        assert not (clip.visible & on_person).any()
        assert not (clip.visible & ~inside).any()
        # Every point inside the frame that is not visible is hidden by a person, the nearer layer or the object.
        assert np.array_equal(clip.visible, inside & ~occluded)
        # The grid points are exactly where the homographies take them.
        q = np.concatenate([clip.tracks[0], np.ones((clip.tracks.shape[1], 1), np.float32)], axis=1)
        mapped = np.einsum("tij,nj->tni", clip.homographies, q)
        np.testing.assert_allclose(clip.tracks, mapped[..., :2] / mapped[..., 2:], atol=1e-3)


def _direction_checks(label: str, params: cm.CameraParams, size: tuple[int, int]) -> None:
    diagonal = float(np.hypot(*size))
    components = cm.split_label(label)
    net_tx, net_ty = params.tx[-1] / diagonal, params.ty[-1] / diagonal
    net_zoom, net_rot = np.log(params.scale[-1]), params.rotation_deg[-1]
    has = set(components)
    # Smooth components: steady, in the named direction, and clearly above the labelling thresholds.
    if cm.SHAKE not in has:
        for name, values in (("tx", params.tx), ("ty", params.ty)):
            steps = np.diff(values)
            assert np.all(steps >= -1e-3) or np.all(steps <= 1e-3), (label, name)
    assert (net_tx > 0.05) if cm.PAN_LEFT in has else True, label
    assert (net_tx < -0.05) if cm.PAN_RIGHT in has else True, label
    assert (net_ty > 0.05) if cm.TILT_UP in has else True, label
    assert (net_ty < -0.05) if cm.TILT_DOWN in has else True, label
    assert (net_zoom > 0.1) if cm.ZOOM_IN in has else True, label
    assert (net_zoom < -0.1) if cm.ZOOM_OUT in has else True, label
    assert (abs(net_rot) > 4.0) if cm.ROLL in has else True, label
    if not has & {cm.PAN_LEFT, cm.PAN_RIGHT, cm.SHAKE}:
        assert np.abs(params.tx).max() < 1e-3, label
    if not has & {cm.TILT_UP, cm.TILT_DOWN, cm.SHAKE}:
        assert np.abs(params.ty).max() < 1e-3, label
    if not has & {cm.ZOOM_IN, cm.ZOOM_OUT}:
        assert np.abs(np.log(params.scale)).max() < 1e-5, label
    if not has & {cm.ROLL, cm.SHAKE}:
        assert np.abs(params.rotation_deg).max() < 1e-4, label
    shake = cm.shake_level(params, size)
    assert (shake > 2 * cm.SHAKE_THRESHOLD) if cm.SHAKE in has else (shake < 0.5 * cm.SHAKE_THRESHOLD), (label, shake)


def test_camera_labels_name_the_motion_of_their_homographies(clips: list[RenderedClip]) -> None:
    size = (CONFIG.width, CONFIG.height)
    labels = set()
    for clip in clips:
        label = clip.metadata["camera_label"]
        labels.update(cm.split_label(label))
        np.testing.assert_allclose(clip.homographies[0], np.eye(3), atol=1e-6)
        _direction_checks(label, cm.decompose_homographies(clip.homographies, size), size)
        assert cm.label_camera_motion(clip.homographies, size) == label
        assert (clip.metadata["camera_magnitude"] > 0.3) == (label != cm.STATIC)
    # Every component of the vocabulary (both directions of pan, tilt and zoom) appears in one corpus cycle.
    assert labels >= {
        cm.STATIC,
        cm.PAN_LEFT,
        cm.PAN_RIGHT,
        cm.TILT_UP,
        cm.TILT_DOWN,
        cm.ZOOM_IN,
        cm.ZOOM_OUT,
        cm.ROLL,
        cm.SHAKE,
    }


def test_fixture_covers_layers_and_persons(clips: list[RenderedClip]) -> None:
    """The checks above ran on clips with the nearer layer, the moving object and two persons."""
    assert any(c.metadata["parallax"] for c in clips)
    assert any(c.metadata["moving_object"] for c in clips)
    assert any(c.metadata["num_persons"] == 2 for c in clips)
    assert {m for c in clips for m in c.metadata["motions"]} == {"walk", "dance", "wave", "turn", "jump"}
