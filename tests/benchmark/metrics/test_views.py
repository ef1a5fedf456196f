"""Protocol views are part of every stored statistics file and result row: they must not change when code moves.

`protocol_views.json` beside this file was written by `current_views()` on the code before the metric contract
(issue 10, item 3); the views computed now must equal it byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from benchmark.features.base import FeatureNet
from benchmark.metrics.background.analysis import SuiteConfig
from benchmark.metrics.background.suite import BackgroundSuite
from benchmark.metrics.frechet import FID, FIDVID, FVD, ContentDebiasedFVD
from benchmark.metrics.pixel import PSNR, SSIM
from benchmark.protocol import BACKGROUND_METRICS, Protocol, get_protocol

PINNED = Path(__file__).with_name("protocol_views.json")
FRECHET = {"fvd": FVD, "cd-fvd": ContentDebiasedFVD, "fid": FID, "fid-vid": FIDVID}
PIXEL = ("psnr", "ssim", "lpips")
OTHER_SUITE = SuiteConfig(mask_dilation_px=3, min_motion_px=2.0)


def protocols() -> dict[str, Protocol]:
    return {
        "bd16": get_protocol("bd16"),
        "bd16-uniform": get_protocol("bd16-uniform"),
        "bd16-stylegan-v": get_protocol("bd16-stylegan-v"),
        "custom": Protocol(
            "custom", frames=8, clip_sampling="center", fid_frames=4, num_videos=10, pixel_resolution=128
        ),
        "few-networks": Protocol("few-networks", networks={"fvd": "i3d-400", "fid": "inception-fid"}),
    }


class StubNet(FeatureNet):
    """Only what a Fréchet metric reads to form its view: the network name, the weights' sha256, the width."""

    network = "i3d-400"

    @staticmethod
    def build() -> torch.nn.Module:
        return torch.nn.Identity()

    def preprocess(self, batch):  # pragma: no cover - never called
        raise NotImplementedError


def stub(network: str) -> FeatureNet:
    net = StubNet(torch.nn.Identity(), sha256="12" * 32, feature_dim=4)
    net.network = network
    return net


def current_views() -> dict[str, str]:
    """Every metric's view under every protocol above: unbound, with weights bound, and from metric instances."""
    out: dict[str, str] = {}
    for pname, p in protocols().items():
        for metric in (*FRECHET, *PIXEL):
            out[f"{pname}|{metric}|unbound"] = p.view_json(metric)
            if metric in p.networks:
                sha = "cd" * 32 + "+" + "ef" * 32 if metric == "lpips" else "ab" * 32
                out[f"{pname}|{metric}|bound"] = p.bind_weights(p.networks[metric], sha).view_json(metric)
        for metric, cls in FRECHET.items():
            if metric in p.networks and not (metric == "fid-vid" and p.frames != 16):
                out[f"{pname}|{metric}|instance"] = cls(stub(p.networks[metric]), p).view
        out[f"{pname}|psnr|instance"] = PSNR(p).view
        out[f"{pname}|ssim|instance"] = SSIM(p).view
        for config_name, config in (("default", None), ("other", OTHER_SUITE)):
            for m in BackgroundSuite(p, BACKGROUND_METRICS, config).metrics:
                out[f"{pname}|{m.name}|suite-{config_name}"] = m.view
    return out


def test_views_are_unchanged() -> None:
    pinned = json.loads(PINNED.read_text())
    now = current_views()
    assert sorted(now) == sorted(pinned)
    for key, view in pinned.items():
        assert now[key] == view, key
