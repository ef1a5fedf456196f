"""Feature networks for the Fréchet metrics: built without weights, loaded from local files only.

Each network module exposes `build_*` (the bare architecture, random weights), a loader taking a local path, and a
`FeatureNet` subclass that owns the network's preprocessing. `load_feature_net` picks one by network name (the
network's weights registry name, see `curation.weights`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from benchmark.features.base import FeatureNet

__all__ = ["FEATURE_NETWORKS", "FeatureNet", "load_feature_net"]

#: Network name -> (module, FeatureNet class). Modules are imported on use, so that scoring with one network does
#: not import (or need) the others' packages.
FEATURE_NETWORKS: dict[str, tuple[str, str]] = {
    "fvd-i3d-400": ("benchmark.features.i3d", "I3DFeatures"),
    "fvd-i3d-torchscript": ("benchmark.features.i3d", "TorchScriptI3DFeatures"),
    "fid-inception": ("benchmark.features.inception", "InceptionFeatures"),
    "fidvid-r3d50": ("benchmark.features.r3d50", "R3D50Features"),
    "cdfvd-videomae-v2-g": ("benchmark.features.videomae", "VideoMAEFeatures"),
}


def load_feature_net(network: str, path: str | Path, *, device: str = "cpu", batch_size: int = 4) -> FeatureNet:
    """The feature network `network` with weights from the local `path` (see `curation.weights.resolve_weights`)."""
    if network not in FEATURE_NETWORKS:
        raise KeyError(f"no feature network called {network!r}; known: {', '.join(sorted(FEATURE_NETWORKS))}")
    module, name = FEATURE_NETWORKS[network]
    cls: type[FeatureNet] = getattr(importlib.import_module(module), name)
    return cls.from_file(path, device=device, batch_size=batch_size)
