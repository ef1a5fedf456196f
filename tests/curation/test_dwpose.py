"""DWPose on ONNX Runtime: the decoding on constructed outputs with known answers, and the whole path on tiny ONNX
models that have DWPose's input and output names and layouts (no real weights, no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from curation.backends import dwpose_decode as dec  # noqa: E402
from curation.backends.dwpose import DWPoseEstimator, DWPoseSettings, assemble  # noqa: E402
from curation.pose_render import render_pose  # noqa: E402

DET = (64, 64)  # tiny detector input (height, width): 8x8 + 4x4 + 2x2 = 84 anchors
POSE = (32, 24)  # tiny pose input (height, width); SimCC split ratio 2


def constant_model(path: Path, input_name: str, input_shape: list, outputs: dict[str, np.ndarray]) -> Path:
    """An ONNX model whose outputs are constants [1, ...] broadcast over the input's batch (0 * mean(input) + C)."""
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["mean", "zero"], ["zeroed"]),
    ]
    initializers = [numpy_helper.from_array(np.zeros((1,), np.float32), "zero")]
    graph_outputs = []
    for name, value in outputs.items():
        shape = np.array([-1] + [1] * (value.ndim - 1), np.int64)
        initializers += [numpy_helper.from_array(value.astype(np.float32), f"{name}_c"),
                         numpy_helper.from_array(shape, f"{name}_shape")]
        nodes += [helper.make_node("Reshape", ["zeroed", f"{name}_shape"], [f"{name}_z"]),
                  helper.make_node("Add", [f"{name}_z", f"{name}_c"], [name])]
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [input_shape[0], *value.shape[1:]]))
    graph_input = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)
    graph = helper.make_graph(nodes, "tiny", [graph_input], graph_outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def anchor_index(stride: int, x: int, y: int, size: tuple[int, int] = DET) -> int:
    offset = 0
    for s in dec.YOLOX_STRIDES:
        if s == stride:
            return offset + y * (size[1] // s) + x
        offset += (size[0] // s) * (size[1] // s)
    raise ValueError(stride)


def detector_output(classes: int = 2) -> np.ndarray:
    """Raw YOLOX output [84, 5 + classes]: one person at stride-8 cell (3, 2), centre (28, 20) and size 16 in input
    pixels; a weaker overlapping duplicate; an object of another class."""
    raw = np.zeros((84, 5 + classes), np.float32)
    raw[:, 4] = 0.01
    main = anchor_index(8, 3, 2)
    raw[main, :5] = [0.5, 0.5, np.log(2.0), np.log(2.0), 0.9]
    raw[main, 5] = 1.0
    dup = anchor_index(16, 1, 1)  # centre (28, 20), size 16: the main box again, with a lower score
    raw[dup, :5] = [0.75, 0.25, 0.0, 0.0, 0.6]
    raw[dup, 5] = 1.0
    other = anchor_index(8, 6, 6)
    raw[other, :5] = [0.5, 0.5, 0.0, 0.0, 0.9]
    raw[other, 5:] = [0.2, 0.9]
    return raw


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
    detector = constant_model(tmp_path / "det.onnx", "images", [1 if fixed_detector_batch else "N", 3, *DET],
                              {"output": raw})
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
    with pytest.raises(FileNotFoundError, match="backdrop weights download"):
        DWPoseEstimator(DWPoseSettings(weights_dir=str(tmp_path), device="cpu"))


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
