"""Protocol views are part of every stored statistics file and result row: they must not change when code moves.

`protocol_views.json` beside this file was written by `current_views()` on the code before the metric contract
(issue 10, item 3), when `Protocol.view_json(metric)` made every view; each metric now declares its own
(`Metric.protocol_view`), and the views it gives must equal the stored ones byte for byte. Changed on purpose since:
FID-VID's resize (issue 13: DisCo's per-channel float route is a different feature, so a different view) and the
added `bg-first-frame` metric.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from benchmark.features.base import FeatureNet
from benchmark.metrics import BACKGROUND_METRICS, metric_class
from benchmark.metrics.background.analysis import SuiteConfig
from benchmark.metrics.background.suite import BackgroundSuite
from benchmark.metrics.frechet import FID, FIDVID, FVD, ContentDebiasedFVD
from benchmark.metrics.pixel import PSNR, SSIM
from benchmark.protocol import Protocol, get_protocol

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
        "few-networks": Protocol("few-networks", networks={"fvd": "fvd-i3d-400", "fid": "fid-inception"}),
    }


class StubNet(FeatureNet):
    """Only what a Fréchet metric reads to form its view: the network name, the weights' sha256, the width."""

    network = "fvd-i3d-400"

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
            cls = metric_class(metric)
            out[f"{pname}|{metric}|unbound"] = cls.view_json(p)
            if metric in p.networks:
                sha = "cd" * 32 + "+" + "ef" * 32 if metric == "lpips" else "ab" * 32
                out[f"{pname}|{metric}|bound"] = cls.view_json(p.bind_weights(p.networks[metric], sha))
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


def test_a_class_gives_the_view_its_instances_carry() -> None:
    """The classmethod route (what the harness and statistics files use before any metric is built) gives the same
    strings as the instances pinned above."""
    pinned = json.loads(PINNED.read_text())
    for pname, p in protocols().items():
        assert PSNR.view_json(p) == pinned[f"{pname}|psnr|instance"]
        for metric in BACKGROUND_METRICS:
            cls = metric_class(metric)
            assert cls.view_json(p) == pinned[f"{pname}|{metric}|suite-default"]
            assert cls.view_json(p, config=OTHER_SUITE) == pinned[f"{pname}|{metric}|suite-other"]


def test_views_only_carry_what_matters_for_the_metric() -> None:
    p = get_protocol("bd16")
    q = dataclasses.replace(p, fid_frames=4)
    assert FVD.view_json(p) == FVD.view_json(q)  # FVD does not depend on FID's frame sampling
    assert FID.view_json(p) != FID.view_json(q)
    r = dataclasses.replace(p, pixel_resolution=64)
    assert FID.view_json(p) == FID.view_json(r) and PSNR.view_json(p) != PSNR.view_json(r)
    assert FVD.protocol_view(p)["network"]["name"] == "i3d-400"
    assert FVD.protocol_view(get_protocol("bd16-stylegan-v"))["network"]["name"] == "i3d-torchscript"
