"""Feature networks for the Fréchet metrics: built without weights, loaded from local files only.

Each network module exposes `build_*` (the bare architecture, random weights), a loader taking a local path, and a
`FeatureNet` subclass that owns the network's preprocessing. `load_feature_net` picks one by network name.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.features.base import FeatureNet, WeightsNotFoundError, load_state_dict_file, resolve_weights

__all__ = ["FeatureNet", "WeightsNotFoundError", "load_feature_net", "load_state_dict_file", "resolve_weights"]


def load_feature_net(network: str, path: str | Path, *, device: str = "cpu", batch_size: int = 4) -> FeatureNet:
    """The feature network `network` (a name in `benchmark.protocol.NETWORKS`) with weights from the local `path`."""
    # Imports are local so that scoring with one network does not import (or need) the others' packages.
    if network == "i3d-400":
        from benchmark.features.i3d import I3DFeatures

        return I3DFeatures.from_file(path, device=device, batch_size=batch_size)
    if network == "i3d-torchscript":
        from benchmark.features.i3d import TorchScriptI3DFeatures

        return TorchScriptI3DFeatures.from_file(path, device=device, batch_size=batch_size)
    if network == "inception-fid":
        from benchmark.features.inception import InceptionFeatures

        return InceptionFeatures.from_file(path, device=device, batch_size=batch_size)
    if network == "r3d50-kinetics":
        from benchmark.features.r3d50 import R3D50Features

        return R3D50Features.from_file(path, device=device, batch_size=batch_size)
    if network == "videomae-v2-g":
        from benchmark.features.videomae import VideoMAEFeatures

        return VideoMAEFeatures.from_file(path, device=device, batch_size=batch_size)
    raise KeyError(f"no feature network called {network!r}")
