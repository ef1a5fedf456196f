"""Stand-ins for the learned backends' weights and code, for tests and the memory benchmark (no downloads):
tiny ONNX models with DWPose's input and output names and layouts, and a torch.hub directory whose hubconf.py has
CoTracker3's entries and predictor calls. Building the ONNX files needs the `onnx` package (a dev dependency)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from curation.backends import dwpose_decode as dec

DET = (64, 64)  # tiny detector input (height, width): 8x8 + 4x4 + 2x2 = 84 anchors
POSE = (32, 24)  # tiny pose input (height, width); SimCC split ratio 2


def constant_model(path: Path, input_name: str, input_shape: list, outputs: dict[str, np.ndarray]) -> Path:
    """An ONNX model whose outputs are constants [1, ...] broadcast over the input's batch (0 * mean(input) + C)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["mean", "zero"], ["zeroed"]),
    ]
    initializers = [numpy_helper.from_array(np.zeros((1,), np.float32), "zero")]
    graph_outputs = []
    for name, value in outputs.items():
        shape = np.array([-1] + [1] * (value.ndim - 1), np.int64)
        initializers += [
            numpy_helper.from_array(value.astype(np.float32), f"{name}_c"),
            numpy_helper.from_array(shape, f"{name}_shape"),
        ]
        nodes += [
            helper.make_node("Reshape", ["zeroed", f"{name}_shape"], [f"{name}_z"]),
            helper.make_node("Add", [f"{name}_z", f"{name}_c"], [name]),
        ]
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
    raise ValueError(f"no stride {stride}")


def detector_output(classes: int = 2) -> np.ndarray:
    """Raw YOLOX output [84, 5 + classes]: one person at stride-8 cell (3, 2), centre (28, 20) and size 16 in input
    pixels; a weaker duplicate of it at stride 16; an object of another class."""
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


def tiny_dwpose(directory: Path, fixed_detector_batch: bool = False) -> tuple[Path, Path]:
    """(detector, pose) ONNX files: every frame shows the person of `detector_output`, every keypoint of it at the
    pose crop's centre with confidence 0.9, except that keypoints spread over the crop so boxes have an extent."""
    directory.mkdir(parents=True, exist_ok=True)
    detector = constant_model(
        directory / "yolox_tiny.onnx",
        "images",
        [1 if fixed_detector_batch else "N", 3, *DET],
        {"output": detector_output()[None]},
    )
    simcc_x = np.zeros((1, 133, POSE[1] * 2), np.float32)
    simcc_y = np.zeros((1, 133, POSE[0] * 2), np.float32)
    simcc_x[0, :, 24] = 0.9
    simcc_y[0, :, 32] = 0.9  # every keypoint at the crop's centre...
    simcc_x[0, 15:17, 24], simcc_x[0, 15:17, 4] = 0.0, 0.9  # ...but the ankles at its lower left
    simcc_y[0, 15:17, 32], simcc_y[0, 15:17, 60] = 0.0, 0.9
    pose = constant_model(
        directory / "dwpose_tiny.onnx", "input", ["N", 3, *POSE], {"simcc_x": simcc_x, "simcc_y": simcc_y}
    )
    return detector, pose


# Points move by (1, 0.5) model pixels per frame from their query; visibility is a score, 0.9 on the left half of
# the model frame and 0.3 on the right. Calls are logged in `CALLS`.
COTRACKER_HUBCONF = textwrap.dedent("""
    import torch

    CALLS = []


    class _Offline(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = torch.nn.Linear(2, 2)

        def forward(self, video, queries=None, segm_mask=None, grid_size=0):
            B, T, C, H, W = video.shape
            CALLS.append({"mode": "offline", "frames": T, "queries": None if queries is None else queries.clone(),
                          "segm_mask": None if segm_mask is None else segm_mask.clone()})
            if queries is None:
                xs = torch.linspace(0, W - 1, grid_size)
                ys = torch.linspace(0, H - 1, grid_size)
                gy, gx = torch.meshgrid(ys, xs, indexing="ij")
                grid = torch.stack([gx.flatten(), gy.flatten()], dim=1)
                keep = segm_mask[0, 0][grid[:, 1].round().long(), grid[:, 0].round().long()] > 0
                queries = torch.cat([torch.zeros(int(keep.sum()), 1), grid[keep]], dim=1)[None]
            return _move(queries, T, W)


    def _move(queries, T, W):
        t = torch.arange(T, dtype=torch.float32)[:, None] - queries[0, None, :, 0]
        tracks = queries[0, None, :, 1:] + t[..., None] * torch.tensor([1.0, 0.5])
        visibility = torch.where(tracks[..., 0] < W / 2, 0.9, 0.3)
        return tracks[None], visibility[None]


    class _Online(_Offline):
        step = 4

        def forward(self, video_chunk, is_first_step=False, queries=None, segm_mask=None, grid_size=0):
            if is_first_step:
                self.queries, self.calls = queries, 0
                CALLS.append({"mode": "online-first", "queries": queries.clone()})
                return None, None
            CALLS.append({"mode": "online", "frames": video_chunk.shape[1]})
            total = self.calls * self.step + video_chunk.shape[1]
            self.calls += 1
            return _move(self.queries, total, video_chunk.shape[-1])


    def cotracker3_offline(*, pretrained=True, **kwargs):
        assert not pretrained
        return _Offline()


    def cotracker3_online(*, pretrained=True, **kwargs):
        assert not pretrained
        return _Online()
""")


def cotracker_hub(directory: Path) -> Path:
    """A local torch.hub directory with the stand-in hubconf.py."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hubconf.py").write_text(COTRACKER_HUBCONF)
    return directory


def stand_in_settings(directory: Path, *, sam2_image_size: int = 128) -> dict[str, Any]:
    """Curation settings (as `config_from_dict` reads them) that select every learned backend on stand-ins built in
    `directory`: tiny DWPose ONNX models, SAM2 with random weights at a small image size, the CoTracker stand-in hub;
    all on the CPU, in small windows. Callers add their own `clips` section."""
    detector, pose = tiny_dwpose(Path(directory) / "onnx")
    hub = cotracker_hub(Path(directory) / "hub")
    return {
        "pose": {"backend": "dwpose"},
        "dwpose": {"detector": str(detector), "model": str(pose), "device": "cpu", "threads": 1},
        "foreground": {"backend": "sam2"},
        "sam2": {"checkpoint": "random", "device": "cpu", "image_size": sam2_image_size, "window": 4},
        "tracks": {"backend": "cotracker3"},
        "cotracker": {
            "repo": str(hub),
            "source": "local",
            "checkpoint": "random",
            "device": "cpu",
            "window": 6,
            "overlap": 2,
        },
        "quality": {"pyiqa": []},
    }
