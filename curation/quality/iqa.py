"""No-reference image-quality scores through pyiqa, computed only when their weights are present locally.

pyiqa would fetch its weights from the network and read them with pickle enabled; here the network is built with
`pretrained=False` and the state dict is read from a local file with `weights_only=True` and `strict=True`. When the
file is absent the score is recorded as not computed (None, with the reason) and curation goes on.

Each metric names its weights file by its registry name (`curation.weights`); the file is looked for in the
`quality.weights_dir` setting, else `$BACKDROP_WEIGHTS`, else `~/.cache/backdrop/weights`. Note pyiqa's licence is
non-commercial.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curation.weights import WeightsNotFoundError, load_strict, locate_weights, resolve_weights


@dataclass(frozen=True)
class IqaSpec:
    pyiqa_name: str  # the pyiqa metric whose preprocessing and architecture are used
    weights: str  # the registry name of its weights file (curation.weights)
    options: dict[str, Any] = field(default_factory=dict)  # architecture options passed to pyiqa
    # "state_dict": the network is built untrained and the file loaded into it strictly; "clip-backbone": the file
    # is OpenAI's CLIP archive, handed to pyiqa as the backbone path (the metric has no weights of its own).
    loader: str = "state_dict"


IQA_METRICS: dict[str, IqaSpec] = {
    "musiq": IqaSpec("musiq", "iqa-musiq", {"pretrained": False, "num_class": 1}),
    # CLIP-IQA (the prompt-pair version, no learned prompts) on OpenAI's CLIP RN50.
    "clipiqa": IqaSpec("clipiqa", "clip-rn50", {"pretrained": False}, loader="clip-backbone"),
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
        self.weights_dir = weights_dir
        self.path = locate_weights(self.spec.weights, weights_dir=weights_dir)
        self.device = device
        self.options = {**self.spec.options, **options}
        self.model: Any = None

    @property
    def available(self) -> bool:
        return self.path.is_file()

    @property
    def missing_reason(self) -> str:
        """Why the score is not computed ("" when the weights are present): the resolver's message."""
        try:
            resolve_weights(self.spec.weights, weights_dir=self.weights_dir, override="quality.weights_dir")
        except WeightsNotFoundError as error:
            return f"not computed: {error}"
        return ""

    def load(self) -> None:
        """Build the network and load the local weights (strict); raises WeightsNotFoundError when absent."""
        path = resolve_weights(self.spec.weights, weights_dir=self.weights_dir, override="quality.weights_dir")
        import pyiqa  # slow to import (and torch is large); only when a learned score is wanted

        options = dict(self.options)
        if self.spec.loader == "clip-backbone":
            options["backbone"] = str(path)  # a path, so pyiqa's CLIP loader never downloads
        model = pyiqa.create_metric(self.spec.pyiqa_name, device=self.device, as_loss=False, **options)
        if self.spec.loader == "state_dict":
            load_strict(model.net, path)
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
