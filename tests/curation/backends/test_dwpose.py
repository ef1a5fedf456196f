"""DWPose on ONNX Runtime: the decoding on constructed outputs with known answers, and the whole path on tiny ONNX
models that have DWPose's input and output names and layouts (no real weights, no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from curation.backends import dwpose_decode as dec
from curation.backends.dwpose import DWPoseEstimator, DWPoseSettings, assemble, dwpose_available
from curation.backends.stand_ins import DET, POSE, constant_model, detector_output
from curation.person.pose_render import render_pose


def test_letterbox_scales_and_pads_bottom_right() -> None:
    image = np.full((100, 200, 3), 7, np.uint8)
    canvas, ratio = dec.letterbox(image, DET)
    assert ratio == pytest.approx(0.32)
    assert canvas.shape == (64, 64, 3)
    assert (canvas[:32] == 7).all() and (canvas[32:] == 114).all()


def test_decode_yolox_known_box_nms_and_class() -> None:
    boxes, scores = dec.decode_yolox(detector_output(), DET, ratio=0.5, score_threshold=0.3, nms_threshold=0.45)
    # Input box (20, 12, 36, 28) in the letterboxed frame, divided by the ratio 0.5.
    np.testing.assert_allclose(boxes, [[40, 24, 72, 56]], atol=1e-4)
    np.testing.assert_allclose(scores, [0.9], atol=1e-6)


def test_simcc_argmax_through_inverse_affine() -> None:
    box = np.array([10.0, 20.0, 50.0, 100.0])
    centre, scale = dec.box_center_scale(box, POSE[1] / POSE[0])
    np.testing.assert_allclose(centre, [30, 60])
    np.testing.assert_allclose(scale, [75, 100])  # 1.25 * (40, 80), widened to aspect 0.75
    simcc_x = np.zeros((1, 133, POSE[1] * 2), np.float32)
    simcc_y = np.zeros((1, 133, POSE[0] * 2), np.float32)
    simcc_x[0, :, 24] = 0.8  # x = 12 input pixels: the crop's centre
    simcc_y[0, :, 0] = 0.5  # y = 0: the crop's top
    simcc_x[0, 5, 24], simcc_x[0, 5, 47] = 0.0, 2.0  # keypoint 5 at the right edge, x = 23.5; peak above 1
    locations, confidence = dec.decode_simcc(simcc_x, simcc_y, 2.0)
    frame = dec.to_frame(locations[0], centre, scale, POSE)
    np.testing.assert_allclose(frame[0], [30.0, 10.0], atol=1e-4)
    np.testing.assert_allclose(frame[5], [23.5 / 24 * 75 + 30 - 37.5, 10.0], atol=1e-4)
    assert confidence[0, 0] == pytest.approx(0.5) and confidence[0, 5] == pytest.approx(0.5)
    # The crop's affine map and `to_frame` are inverses.
    point = np.array([[41.0, 77.0]])
    matrix = dec.crop_matrix(centre, scale, POSE)
    projected = point @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(dec.to_frame(projected, centre, scale, POSE), point, atol=1e-4)


def tiny_models(tmp_path: Path, fixed_detector_batch: bool) -> DWPoseSettings:
    raw = detector_output()[None]
    detector = constant_model(
        tmp_path / "det.onnx", "images", [1 if fixed_detector_batch else "N", 3, *DET], {"output": raw}
    )
    simcc_x = np.zeros((1, 133, POSE[1] * 2), np.float32)
    simcc_y = np.zeros((1, 133, POSE[0] * 2), np.float32)
    simcc_x[0, :, 24] = 0.9
    simcc_y[0, :, 32] = 0.9  # every keypoint at the crop's centre
    pose = constant_model(tmp_path / "pose.onnx", "input", ["N", 3, *POSE], {"simcc_x": simcc_x, "simcc_y": simcc_y})
    return DWPoseSettings(detector=str(detector), model=str(pose), device="cpu", threads=1, batch_frames=3)


@pytest.mark.parametrize("fixed_detector_batch", [False, True])
def test_whole_path_on_tiny_onnx_models(tmp_path: Path, fixed_detector_batch: bool) -> None:
    estimator = DWPoseEstimator(tiny_models(tmp_path, fixed_detector_batch))
    assert estimator.detector.input_hw == DET and estimator.pose_size == POSE
    rgb = np.random.default_rng(0).integers(0, 255, (5, 128, 96, 3), np.uint8)  # letterbox ratio 0.5
    keypoints = estimator.estimate(rgb, np.arange(5))
    assert keypoints.shape == (5, 1, 133, 3) and keypoints.dtype == np.float32
    # The person box (40, 24, 72, 56) has centre (56, 40): every keypoint lands there, confidence 0.9.
    np.testing.assert_allclose(keypoints[..., 0], 56.0, atol=1e-3)
    np.testing.assert_allclose(keypoints[..., 1], 40.0, atol=1e-3)
    np.testing.assert_allclose(keypoints[..., 2], 0.9, atol=1e-6)
    assert "dwpose onnxruntime" in estimator.version


def test_missing_model_file_names_the_weights_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="backdrop weights download") as error:
        DWPoseEstimator(DWPoseSettings(weights_dir=str(tmp_path), device="cpu"))
    message = str(error.value)
    assert "dwpose-detector" in message and "dwpose.detector (a file) or dwpose.weights_dir" in message
    settings = DWPoseSettings(model=str(tmp_path / "mine.onnx"), weights_dir=str(tmp_path), device="cpu")
    assert dwpose_available(settings) == [str(tmp_path / "yolox_l.onnx"), str(tmp_path / "mine.onnx")]


def test_assemble_follows_persons_by_overlap() -> None:
    a, b = np.array([0, 0, 10, 20.0]), np.array([50, 0, 80, 60.0])
    person = np.zeros((133, 3), np.float32)
    small, large = person.copy(), person.copy()
    small[:17] = [[5, 10, 1.0]] * 17
    small[0, :2], small[16, :2] = (0, 0), (10, 20)
    large[:17] = [[60, 30, 1.0]] * 17
    large[0, :2], large[16, :2] = (50, 0), (80, 60)
    boxes = [np.stack([a, b]), np.stack([b + 1, a + 1]), np.stack([a])]
    people = [np.stack([small, large]), np.stack([large, small]), np.stack([small])]
    result = assemble(boxes, people, match_iou=0.3, max_persons=4)
    assert result.shape == (3, 2, 133, 3)
    assert (result[:2, 0, 0, 0] >= 50).all()  # the large person first, the same person in both frames
    assert (result[:, 1, 0, 0] <= 1).all()  # the small one second throughout
    assert result[2, 0, 0, 2] == 0.0  # absent in frame 2


def test_render_pose_draws_limbs_in_openpose_colours() -> None:
    person = np.zeros((1, 133, 3), np.float32)
    person[0, 5] = [40, 30, 1.0]  # left shoulder
    person[0, 6] = [20, 30, 1.0]  # right shoulder
    person[0, 8] = [20, 60, 1.0]  # right elbow
    image = render_pose(person, (64, 80))
    assert image.shape == (80, 64, 3) and image.dtype == np.uint8
    assert image[45, 20].any()  # on the right upper arm
    assert not image[75, 60].any()  # background stays black
    assert not render_pose(np.zeros((0, 133, 3), np.float32), (64, 80)).any()
