"""The mediapipe backend runs its real models (they ship inside its wheel) on a photograph of a person that
scikit-image ships inside its own wheel (`skimage.data.astronaut()`, 512x512, read from the installed package with
no network): keypoints land on the person and none on the background; a frame with nobody gives nobody."""

from __future__ import annotations

import numpy as np
import pytest

from curation.backends.mediapipe_pose import MediaPipePose, MediaPipeSettings
from curation.person import wholebody as wb

#: Regions of the astronaut photograph, read off the image (x0, y0, x1, y1): background (the flag on the left, the
#: shuttle model on the right, the wall above her head) and her head.
BACKGROUND = {"flag": (0, 0, 90, 220), "shuttle": (365, 0, 470, 270), "wall": (320, 0, 360, 120)}
HEAD = (150, 20, 305, 200)
NOSE = (222, 128)


def _inside(points: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return (points[:, 0] >= x0) & (points[:, 0] < x1) & (points[:, 1] >= y0) & (points[:, 1] < y1)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def estimator() -> MediaPipePose:
    model = MediaPipePose(MediaPipeSettings(max_persons=2))
    yield model
    model.close()


def test_keypoints_land_on_the_person_and_none_on_the_background(estimator, astronaut) -> None:
    keypoints, mask = estimator.estimate_clip(np.stack([astronaut] * 3))
    assert keypoints.shape == (3, 1, 133, 3) and mask.shape == (3, 512, 512)
    person = keypoints[-1, 0]
    confident = person[person[:, 2] >= 0.5]
    assert len(confident) >= 60  # body, face mesh
    for name, box in BACKGROUND.items():
        assert not _inside(confident, box).any(), f"keypoints on the {name}"
        x0, y0, x1, y1 = box
        assert mask[-1, y0:y1, x0:x1].mean() < 0.02, f"mask on the {name}"
    assert np.linalg.norm(person[wb.INDEX["nose"], :2] - NOSE) < 15
    # Her right side is on the image's left (she faces the camera).
    assert person[wb.INDEX["right_shoulder"], 0] < NOSE[0] < person[wb.INDEX["left_shoulder"], 0]
    face = person[wb.FACE]
    assert (face[:, 2] > 0.5).all() and _inside(face, HEAD).all()
    assert face[0, 0] < face[8, 0] < face[16, 0] and face[8, 1] == face[:17, 1].max()  # jaw: right to left, chin
    assert face[36, 0] < face[39, 0] < face[42, 0] < face[45, 0]  # eye corners in dlib-68 order
    assert mask[-1, 400, 220] and mask[-1, 128, 222]  # suit and face
    assert (person[wb.INDEX["left_small_toe"], 2], person[wb.INDEX["right_small_toe"], 2]) == (0.0, 0.0)


def test_nobody_gives_no_person_and_no_mask(estimator) -> None:
    rng = np.random.default_rng(0)
    grey = np.full((2, 128, 160, 3), 127, np.uint8)
    frames = np.concatenate([grey, rng.integers(0, 256, (2, 128, 160, 3), np.uint8)])
    keypoints, mask = estimator.estimate_clip(frames)
    assert keypoints.shape == (4, 0, 133, 3) and not mask.any()


def test_two_persons_get_two_slots_sorted_by_area(estimator, astronaut) -> None:
    small = astronaut[::2, ::2]  # the second person at half size, to the right of the first
    canvas = np.full((512, 768, 3), 200, np.uint8)
    canvas[:, :512] = astronaut
    canvas[256:, 512:] = small
    keypoints, _ = estimator.estimate_clip(np.stack([canvas] * 3))
    assert keypoints.shape[1] == 2
    noses = keypoints[-1, :, wb.INDEX["nose"]]
    assert np.linalg.norm(noses[0, :2] - NOSE) < 15  # the larger person first
    assert np.linalg.norm(noses[1, :2] - (512 + NOSE[0] / 2, 256 + NOSE[1] / 2)) < 15


def test_runs_are_repeatable_and_quiet(astronaut, capfd) -> None:
    model = MediaPipePose(MediaPipeSettings(max_persons=1, hands=False, face=False))
    try:
        first = model.estimate_clip(np.stack([astronaut] * 2))[0]
        second = model.estimate_clip(np.stack([astronaut] * 2))[0]
    finally:
        model.close()
    np.testing.assert_array_equal(first, second)  # graphs are reset per clip
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_clip_does_not_depend_on_the_clip_before(estimator, astronaut) -> None:
    """Only the graphs that found something are restarted between clips (a restart reloads the models): a clip after
    another gives what a fresh estimator gives, with hands, face and a second graph that finds nobody."""
    moved = np.ascontiguousarray(np.roll(astronaut, 48, axis=1))  # where the first clip's tracking would not look
    estimator.estimate_clip(np.stack([astronaut] * 3))
    assert "pose" in estimator.persons[0].dirty
    after = estimator.estimate_clip(np.stack([moved] * 3))
    fresh_model = MediaPipePose(MediaPipeSettings(max_persons=2))
    try:
        fresh = fresh_model.estimate_clip(np.stack([moved] * 3))
    finally:
        fresh_model.close()
    np.testing.assert_array_equal(after[0], fresh[0])
    np.testing.assert_array_equal(after[1], fresh[1])
    assert after[0].shape[1] == 1 and not estimator.persons[1].dirty  # the second graph found nobody: no restart
