"""No-reference image-quality scores through pyiqa, computed only when their weights are present locally.

pyiqa would fetch its weights from the network and read them with pickle enabled; here the network is built with
`pretrained=False` and the state dict is read from a local file with `weights_only=True` and `strict=True`. When the
file is absent the score is recorded as not computed (None, with the reason) and curation goes on.

Weights live in one directory: the `quality.weights_dir` setting, else `$BACKDROP_WEIGHTS`, else
`~/.cache/backdrop/weights`. Note pyiqa's licence is non-commercial.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curation.weights import default_weights_dir


@dataclass(frozen=True)
class IqaSpec:
    pyiqa_name: str  # the pyiqa metric whose preprocessing and architecture are used
    weights_file: str  # canonical file name in the weights directory
    source: str  # where the canonical file comes from
    options: dict[str, Any] = field(default_factory=dict)  # architecture options passed to pyiqa
    # "state_dict": the network is built untrained and the file loaded into it strictly; "clip-backbone": the file
    # is OpenAI's CLIP archive, handed to pyiqa as the backbone path (the metric has no weights of its own).
    loader: str = "state_dict"


IQA_METRICS: dict[str, IqaSpec] = {
    "musiq": IqaSpec(
        "musiq",
        "musiq_koniq_ckpt-e95806b9.pth",
        "pyiqa's release of MUSIQ trained on KonIQ-10k",
        {"pretrained": False, "num_class": 1},
    ),
    # CLIP-IQA (the prompt-pair version, no learned prompts) on CLIP RN50: the `clip-rn50` weights entry.
    "clipiqa": IqaSpec(
        "clipiqa",
        "RN50.pt",
        "OpenAI's CLIP RN50 (`backdrop weights download clip-rn50`)",
        {"pretrained": False},
        loader="clip-backbone",
    ),
}


class NoReferenceScorer:
    """One pyiqa no-reference metric on local weights; `available` tells whether the weights file was found."""

    def __init__(
        self, name: str, weights_dir: str | os.PathLike | None = None, device: str = "cpu", **options: Any
    ) -> None:
        if name not in IQA_METRICS:
            raise ValueError(f"unknown no-reference metric {name!r}; known: {sorted(IQA_METRICS)}")
        self.name = name
        self.spec = IQA_METRICS[name]
        self.path = Path(weights_dir or default_weights_dir()).expanduser() / self.spec.weights_file
        self.device = device
        self.options = {**self.spec.options, **options}
        self.model: Any = None

    @property
    def available(self) -> bool:
        return self.path.is_file()

    @property
    def missing_reason(self) -> str:
        return f"not computed: weights {self.path} not found (from {self.spec.source}; see `backdrop weights`)"

    def load(self) -> None:
        """Build the network and load the local weights (strict); raises FileNotFoundError when absent."""
        if not self.available:
            raise FileNotFoundError(f"{self.name}: {self.missing_reason}")
        import pyiqa  # slow to import (and torch is large); only when a learned score is wanted

        from benchmark.features.base import load_strict

        options = dict(self.options)
        if self.spec.loader == "clip-backbone":
            options["backbone"] = str(self.path)  # a path, so pyiqa's CLIP loader never downloads
        model = pyiqa.create_metric(self.spec.pyiqa_name, device=self.device, as_loss=False, **options)
        if self.spec.loader == "state_dict":
            load_strict(model.net, self.path)
        self.model = model

    def score(self, rgb: np.ndarray) -> float:
        """Mean score over frames [K, H, W, 3] uint8."""
        import torch

        if self.model is None:
            self.load()
        batch = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 255.0
        with torch.no_grad():
            values = [float(self.model(frame[None].to(self.device)).reshape(-1)[0]) for frame in batch]
        return float(np.mean(values))
