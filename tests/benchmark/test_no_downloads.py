"""Nothing on the scoring path opens a network connection: every builder runs with sockets refused."""

from __future__ import annotations

import socket

import pytest

from benchmark.features.i3d import build_i3d
from benchmark.features.inception import build_fid_inception
from benchmark.features.r3d50 import build_r3d50
from benchmark.features.videomae import build_videomae
from benchmark.metrics.background.suite import BackgroundSuite
from benchmark.metrics.lpips import build_lpips
from benchmark.metrics.pixel import PSNR, SSIM
from benchmark.protocol import get_protocol
from curation.weights import WeightsNotFoundError, resolve_weights


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_the_guard_works(no_network) -> None:
    import urllib.request

    with pytest.raises(AssertionError, match="network access attempted"):
        urllib.request.urlopen("http://example.invalid/", timeout=1)


def test_builders_do_not_download(no_network, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache: a cached download cannot hide a fetch
    build_i3d()
    build_fid_inception()
    build_r3d50()
    build_videomae(depth=1, embed_dim=24, num_heads=2)
    build_lpips()
    PSNR(get_protocol("bd16"))
    SSIM(get_protocol("bd16"))
    BackgroundSuite(get_protocol("bd16"))  # no weights at all: the CPU tracker and OpenCV's estimators
    assert not any(tmp_path.iterdir())


def test_weights_are_read_from_local_files_or_reported_missing_never_fetched(no_network, tmp_path, monkeypatch) -> None:
    import torch

    from benchmark.features import load_feature_net
    from benchmark.scoring import ScoreOptions, build_metrics

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("BACKDROP_WEIGHTS", str(tmp_path / "default"))
    networks = {n for name in ("bd16", "bd16-stylegan-v") for n in get_protocol(name).networks.values()}
    for network in sorted(networks):
        with pytest.raises(WeightsNotFoundError, match=f"weights {network} .*never downloads them on its own"):
            resolve_weights(network)
    with pytest.raises(WeightsNotFoundError, match="--weights-dir"):
        build_metrics(ScoreOptions(get_protocol("bd16")))
    saved = tmp_path / "i3d.pt"
    torch.save(build_i3d().state_dict(), saved)
    assert load_feature_net("fvd-i3d-400", resolve_weights("fvd-i3d-400", saved)).network == "fvd-i3d-400"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i3d.pt"]  # no cache, no default directory written
