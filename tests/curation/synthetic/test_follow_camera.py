"""Follow-camera recipes: the camera moves with the one person's root motion (a walker's travel, a jump's height,
a walker's approach), the ground truth stays exact, and the default corpus is what it always was."""

from __future__ import annotations

import numpy as np
import pytest

from curation.motion import camera_labels as cm
from curation.synthetic.camera_paths import CAMERA_RECIPES
from curation.synthetic.clip import SynthConfig, SyntheticClip, plan_clip, render_clip
from curation.synthetic.follow_camera import FOLLOW_RECIPES, follow_camera_path

CONFIG = SynthConfig(width=128, height=128, frames=16, fps=8.0, grid_step=16, camera="follow")


def test_plans_cycle_the_follow_recipes_and_the_default_plans_are_unchanged() -> None:
    follow = [plan_clip(3, i, "follow") for i in range(10)]
    assert [p.follow for p in follow] == list(FOLLOW_RECIPES) * 2
    assert all(len(p.motions) == 1 and p.camera == () for p in follow)
    default = [plan_clip(3, i) for i in range(12)]
    assert all(p.follow is None for p in default)
    assert [tuple(c.split("_")[0] for c in p.camera) for p in default] == [
        tuple(c.split("_")[0] for c in recipe) for recipe in CAMERA_RECIPES
    ]
    assert "camera" not in SyntheticClip.config_dict(SynthConfig())  # default metadata as before the mode existed
    assert SyntheticClip.config_dict(CONFIG)["camera"] == "follow"
    with pytest.raises(ValueError, match="camera must be one of"):
        SynthConfig(camera="orbit")


def test_the_camera_follows_the_person() -> None:
    components = set()
    for index in range(15):
        clip = SyntheticClip(plan_clip(7, index, "follow"), CONFIG)
        person = clip.persons[0]
        params = cm.decompose_homographies(clip.homographies, CONFIG.size)
        label = clip.metadata()["camera_label"]
        components.update(cm.split_label(label))
        recipe = clip.plan.follow
        if recipe in ("follow_pan", "follow_shake"):
            # A walker facing screen right travels right: the camera pans right, the background moves left.
            facing = np.sign(np.sin(person.yaw[0]))
            assert np.sign(params.tx[-1]) == -facing and abs(params.tx[-1]) > 0.05 * CONFIG.width
            assert (cm.PAN_RIGHT if facing > 0 else cm.PAN_LEFT) in label
        elif recipe == "follow_tilt":
            # The background moves down as the jumper rises (the camera tilts up with them).
            rise = (person.root[:, 1] - person.root[0, 1]) * person.scale
            assert np.corrcoef(params.ty, rise)[0, 1] > 0.9
        elif recipe == "follow_zoom":
            towards = np.cos(person.yaw[0]) > 0
            assert (params.scale[-1] < 0.97) if towards else (params.scale[-1] > 1.03)
        # The followed person stays in the frame.
        keypoints = clip.keypoints()[:, 0]
        assert (keypoints[..., 2] > 0).any(axis=1).all()
    assert {cm.PAN_LEFT, cm.PAN_RIGHT} & components and {cm.ZOOM_IN, cm.ZOOM_OUT} & components
    assert cm.SHAKE in components and {cm.TILT_UP, cm.TILT_DOWN} & components


CORNERS = np.array([[64, 64], [16, 16], [112, 16], [16, 112], [112, 112]], float)


def _pose_and_background_motion(camera: str, seeds: range, clips: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame t > 0 of each clip: features of the pose sequence alone (the largest person's body keypoints at t
    against frame 0, and frame 0's pose shape, which says where the person faces, times t; in body heights) and the
    background's motion at the centre and four corners (from the true homographies; in frame widths)."""
    config = SynthConfig(width=128, height=128, frames=16, fps=8.0, grid_step=16, camera=camera)
    features, motion = [], []
    for seed in seeds:
        for index in range(clips):
            clip = SyntheticClip(plan_clip(seed, index, camera), config)
            body = clip.keypoints()[:, 0, :17, :2].astype(np.float64)
            height = np.ptp(body[0, :, 1])
            shape = (body[0] - body[0].mean(axis=0)) / height
            mapped = np.einsum("tij,nj->tni", clip.homographies, np.c_[CORNERS, np.ones(len(CORNERS))])
            shifts = (mapped[..., :2] / mapped[..., 2:] - CORNERS) / config.width
            for t in range(1, config.frames):
                time = t / config.frames
                features.append(np.r_[((body[t] - body[0]) / height).ravel(), (shape * time).ravel(), time, 1.0])
                motion.append(shifts[t].ravel())
    return np.array(features), np.array(motion)


@pytest.mark.parametrize(("camera", "low", "high"), [("follow", 0.6, 1.0), ("independent", -np.inf, 0.1)])
def test_the_pose_sequence_predicts_the_background_motion_only_when_the_camera_follows(
    camera: str, low: float, high: float
) -> None:
    # What the AnimateAnywhere-style model must learn (issue 12): in the follow-camera corpus the pose sequence
    # determines most of the background's motion, even for a linear map fitted on other clips; in the default corpus,
    # where the camera is independent of the persons, it determines none of it (held-out R^2 at or below 0).
    train_x, train_y = _pose_and_background_motion(camera, range(6), 20)
    test_x, test_y = _pose_and_background_motion(camera, range(100, 103), 20)
    weights = np.linalg.solve(train_x.T @ train_x + 1e-2 * np.eye(train_x.shape[1]), train_x.T @ train_y)
    predicted = test_x @ weights
    r2 = 1.0 - ((test_y - predicted) ** 2).sum() / ((test_y - test_y.mean(axis=0)) ** 2).sum()
    assert low < r2 < high
    if camera == "follow":  # and it moves the background as far as the truth does (a bg-dynamics near 1)
        magnitude = np.linalg.norm(predicted, axis=1).mean() / np.linalg.norm(test_y, axis=1).mean()
        assert 0.9 < magnitude < 1.1


def test_ground_truth_is_exact_and_rendering_reproducible() -> None:
    clip = render_clip(2, 0, CONFIG)
    again = render_clip(2, 0, CONFIG)
    assert np.array_equal(clip.frames, again.frames) and clip.metadata["follow"] == "follow_pan"
    q = SyntheticClip(plan_clip(2, 0, "follow"), CONFIG).query_points().astype(np.float64)
    mapped = np.einsum("tij,nj->tni", clip.homographies.astype(np.float64), np.c_[q, np.ones(len(q))])
    assert np.allclose(clip.tracks, mapped[..., :2] / mapped[..., 2:], atol=1e-3)
    # Where a track is visible and the person is not drawn, the frame shows the plane texture that track carries.
    first = clip.frames[0].astype(int)
    for t in (5, 15):
        seen = np.flatnonzero(clip.visible[t] & clip.visible[0])
        x0, y0 = np.round(clip.tracks[0, seen]).astype(int).T
        x1, y1 = np.round(clip.tracks[t, seen]).astype(int).T
        inside = (x1 >= 1) & (x1 < 127) & (y1 >= 1) & (y1 < 127) & (x0 >= 1) & (x0 < 127) & (y0 >= 1) & (y0 < 127)
        difference = np.abs(clip.frames[t][y1[inside], x1[inside]].astype(int) - first[y0[inside], x0[inside]])
        assert np.median(difference) < 25


def test_unknown_recipe_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown follow-camera recipe"):
        follow_camera_path("follow_orbit", np.random.default_rng(0), np.zeros((4, 3)), np.zeros(4), 50.0, 8.0,
                           (64, 64))  # fmt: skip
