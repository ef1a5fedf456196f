"""ONNX Runtime sessions on the best provider present (CUDA where there is one, CPU otherwise), with batching that
respects a model exported with a fixed batch size."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def providers(device: str = "auto") -> list[str]:
    """Execution providers for `device` ("auto", "cuda" or "cpu"); "cuda" without the CUDA provider raises."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise RuntimeError(
            f"device 'cuda' asked for, but ONNX Runtime offers only {available} (install "
            f"onnxruntime-gpu for the CUDA provider)"
        )
    return ["CPUExecutionProvider"]


class OnnxModel:
    """One ONNX file on ONNX Runtime; `run(batch)` splits the batch when the model's batch size is fixed."""

    def __init__(self, path: str | os.PathLike, device: str = "auto", threads: int = 0) -> None:
        import onnxruntime as ort

        if not os.path.isfile(path):
            raise FileNotFoundError(f"ONNX model {path} not found (see `backdrop weights download`)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default
        options.log_severity_level = 3
        self.session = ort.InferenceSession(os.fspath(path), options, providers=providers(device))
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"{path}: expected one input, found {[i.name for i in inputs]}")
        self.input_name = inputs[0].name
        shape = inputs[0].shape
        self.fixed_batch = shape[0] if isinstance(shape[0], int) else None
        self.input_hw = tuple(int(v) for v in shape[2:4]) if all(isinstance(v, int) for v in shape[2:4]) else None
        self.output_names = [o.name for o in self.session.get_outputs()]

    @property
    def provider(self) -> str:
        return self.session.get_providers()[0]

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """Outputs for an input batch [N, ...] float32, each [N, ...]."""
        step = self.fixed_batch or len(batch)
        parts: list[list[Any]] = []
        for start in range(0, len(batch), max(step, 1)):
            chunk = batch[start : start + step]
            parts.append(self.session.run(self.output_names, {self.input_name: np.ascontiguousarray(chunk)}))
        return [np.concatenate([p[i] for p in parts]) for i in range(len(self.output_names))]
