"""Background conditioning at the model's resolution: track maps land on the known tracks and are empty on the
person; the warped reference reproduces a planar background; epipolar geometry is a homography on a plane and a
fundamental matrix under parallax, each agreeing with the truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curation.synthetic.clip import ClipPlan, SynthConfig, render_clip
from models.data.background import (
    GEOMETRY_FUNDAMENTAL,
    GEOMETRY_HOMOGRAPHY,
    BackgroundInputs,
    epipolar_geometry,
    render_track_maps,
)
from models.data.conditioning import clip_conditions, clip_example


def test_track_map_lands_on_known_tracks_and_is_empty_on_the_person() -> None:
    size = (32, 48)
    positions = np.array([[[10.0, 5.0], [30.0, 20.0], [20.0, 12.0]], [[12.0, 6.0], [28.0, 21.0], [22.0, 13.0]]])
    kept = np.array([[True, True, False], [True, True, True]])
    person = np.zeros((2, *size), bool)
    person[:, 8:16, 16:25] = True  # covers track 2 in both frames
    maps = render_track_maps(positions, kept, positions[0], size, sigma=1.0, person=person)
    assert maps.shape == (2, 3, *size)
    for t in range(2):
        for k in (0, 1):
            x, y = positions[t, k].astype(int)
            assert maps[t, :, y, x] == pytest.approx([1.0, positions[0, k, 0] / 48, positions[0, k, 1] / 32])
    assert not maps[:, :, person[0]].any()  # track 2 (kept in frame 1) lies on the person: nothing drawn
    ys, xs = np.mgrid[0:32, 0:48]
    far = np.ones((2, *size), bool)
    for t in range(2):
        for k in np.flatnonzero(kept[t]):
            far[t] &= np.hypot(xs - positions[t, k, 0], ys - positions[t, k, 1]) > 4
    assert maps[:, 0][far].max() < 1e-3
    # Without the inverse mask, the track on the person is drawn.
    unmasked = render_track_maps(positions, kept, positions[0], size, sigma=1.0)
    assert unmasked[1, 0, 13, 22] == pytest.approx(1.0)


def _planar_sample(camera: tuple[str, ...] = ("pan_left",)) -> tuple[dict, object]:
    config = SynthConfig(width=128, height=128, frames=6, fps=8.0, grid_step=8)
    plan = ClipPlan(seed=5, index=0, camera=camera, motions=("walk",), parallax=False, moving_object=False)
    clip = render_clip(5, 0, config, plan)
    sample = {
        "__key__": "0123456789abcdef-0000",
        "frames": torch.from_numpy(clip.frames),
        "pose": torch.from_numpy(clip.keypoints),
        "tracks": torch.from_numpy(clip.tracks),
        "visible": torch.from_numpy(clip.visible),
        "track_mask": torch.from_numpy(clip.visible),  # exact truth: visible background
        "fgmask": torch.from_numpy(clip.person_masks),  # as the shard reader gives it: unpacked
    }
    return sample, clip


def test_clip_track_maps_follow_the_true_tracks_and_avoid_the_person() -> None:
    sample, clip = _planar_sample()
    inputs = BackgroundInputs(track_maps=True, tracks_min=40, tracks_max=40, track_sigma=1.0)
    example = clip_example(sample, resolution=(128, 128), frames=6, rng=np.random.default_rng(1), background=inputs)
    maps = example["track_maps"].numpy()
    assert maps.shape == (6, 3, 128, 128)
    person = clip.person_masks[example["frame_index"].numpy()]
    assert person.any() and not (maps.transpose(0, 2, 3, 1)[person.astype(bool)]).any()
    reference = example["reference_index"]
    for i, t in enumerate(example["frame_index"].tolist()):
        peaks = np.argwhere(maps[i, 0] > 0.8)  # (y, x) near drawn tracks
        assert len(peaks) >= 10
        truth = clip.tracks[t][clip.visible[t] & clip.visible[reference]]
        nearest = np.min(np.hypot(*(peaks[:, None, ::-1] - truth[None]).transpose(2, 0, 1)), axis=1)
        assert nearest.max() < 1.0  # every peak lies on a true background track of that frame
    conditions = clip_conditions(sample, resolution=(128, 128), background=inputs, rng=np.random.default_rng(1))
    assert conditions["track_maps"].shape == (6, 3, 128, 128)


def test_warped_reference_reproduces_the_planar_background() -> None:
    sample, clip = _planar_sample()
    inputs = BackgroundInputs(track_maps=True, tracks_min=20, tracks_max=20, warped_reference=True)
    example = clip_example(sample, resolution=(128, 128), frames=6, rng=np.random.default_rng(2), background=inputs)
    maps = example["track_maps"].numpy()
    assert maps.shape == (6, 7, 128, 128)
    for i, t in enumerate(example["frame_index"].tolist()):
        valid = maps[i, 6] > 0.5
        valid[:2], valid[-2:], valid[:, :2], valid[:, -2:] = False, False, False, False  # resampling at borders
        background = valid & ~clip.person_masks[t]
        assert background.mean() > 0.5
        truth = clip.frames[t].astype(np.float32).transpose(2, 0, 1) / 255
        error = np.abs(maps[i, 3:6] - truth)[:, background]
        assert error.mean() < 0.03, (t, error.mean())


def test_epipolar_geometry_of_a_plane_is_its_homography() -> None:
    _, clip = _planar_sample(("zoom_in",))
    positions, kept = clip.tracks, clip.visible
    matrices, kinds = epipolar_geometry(positions, kept, BackgroundInputs(epipolar=True))
    off = ~np.eye(6, dtype=bool)
    assert (kinds[off] == GEOMETRY_HOMOGRAPHY).all() and (kinds[~off] == 0).all()
    truth = clip.homographies[4].astype(np.float64) @ np.linalg.inv(clip.homographies[1])
    assert np.allclose(matrices[1, 4] / matrices[1, 4, 2, 2], truth / truth[2, 2], atol=1e-3)
    assert np.allclose(matrices[4, 1] @ matrices[1, 4], np.eye(3) * (matrices[4, 1] @ matrices[1, 4])[2, 2], atol=1e-4)


def test_epipolar_geometry_under_parallax_is_a_fundamental_matrix() -> None:
    rng = np.random.default_rng(0)
    n, focal = 200, 100.0
    world = np.stack([rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n), rng.uniform(2, 10, n)], axis=1)
    positions = []
    for t in range(3):  # the camera slides sideways and forward: depth-dependent image motion
        seen = world - np.array([0.15 * t, 0.05 * t, 0.2 * t])
        positions.append(focal * seen[:, :2] / seen[:, 2:3] + 64)
    positions = np.stack(positions).astype(np.float32)
    kept = np.ones((3, n), bool)
    matrices, kinds = epipolar_geometry(positions, kept, BackgroundInputs(epipolar=True))
    assert kinds[0, 2] == GEOMETRY_FUNDAMENTAL and kinds[2, 0] == GEOMETRY_FUNDAMENTAL
    x0 = np.concatenate([positions[0], np.ones((n, 1))], axis=1)
    x2 = np.concatenate([positions[2], np.ones((n, 1))], axis=1)
    lines = x0 @ matrices[0, 2].astype(np.float64).T  # in frame 2
    distance = np.abs(np.sum(lines * x2, axis=1)) / np.hypot(lines[:, 0], lines[:, 1])
    assert np.median(distance) < 0.05 and distance.max() < 1.0
    assert np.allclose(matrices[2, 0], matrices[0, 2].T)


def test_missing_track_members_are_named() -> None:
    sample, _ = _planar_sample()
    del sample["track_mask"]
    with pytest.raises(ValueError, match="track_mask"):
        clip_example(
            sample, resolution=(64, 64), frames=2, rng=np.random.default_rng(0),
            background=BackgroundInputs(track_maps=True),
        )  # fmt: skip
