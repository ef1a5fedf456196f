"""Nothing on the scoring path opens a network connection: every builder runs with sockets refused."""

from __future__ import annotations

import socket

import pytest

from benchmark.features.i3d import build_i3d
from benchmark.features.inception import build_fid_inception
from benchmark.features.r3d50 import build_r3d50
from benchmark.features.videomae import build_videomae
from benchmark.metrics.background.suite import BackgroundSuite
from benchmark.metrics.pixel import PSNR, SSIM, build_lpips
from benchmark.protocol import get_protocol


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
