"""Protocols: the protocol-wide part of every view, arguments validated, files hashed."""

from __future__ import annotations

import dataclasses

import pytest

from benchmark.protocol import NETWORKS, Protocol, get_protocol, sha256_file


def test_the_base_view_holds_only_what_every_metric_shares() -> None:
    p = get_protocol("bd16")
    assert p.base_view("psnr") == {"protocol": "bd16", "metric": "psnr", "num_videos": None}  # no network for psnr
    fvd = p.bind_weights("fvd-i3d-400", "ab" * 32).base_view("fvd")
    assert fvd["network"] == NETWORKS["fvd-i3d-400"].as_dict() and fvd["weights_sha256"] == "ab" * 32
    assert "weights_file" not in fvd["network"]  # where a file comes from does not change the numbers
    assert p.base_view("fvd")["weights_sha256"] is None  # nothing bound yet
    assert dataclasses.replace(p, num_videos=50).base_view("fid")["num_videos"] == 50
    assert get_protocol("bd16-stylegan-v").base_view("fvd")["network"]["name"] == "i3d-torchscript"


def test_protocol_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="clip_sampling"):
        Protocol("x", clip_sampling="random")
    with pytest.raises(ValueError, match="frames must be >= 1"):
        Protocol("x", frames=0)
    with pytest.raises(ValueError, match="name"):
        Protocol("a.b")
    with pytest.raises(ValueError, match="unknown network"):
        Protocol("x", networks={"fvd": "c3d"})
    with pytest.raises(KeyError, match="bd16"):
        get_protocol("nope")


def test_sha256_file(tmp_path) -> None:
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    assert sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_fixed_pixel_resolution_is_a_protocol_of_its_own_name() -> None:
    assert get_protocol("bd16", pixel_resolution=64).name == "bd16-px64"
    assert get_protocol("bd16", pixel_resolution=64).pixel_resolution == 64
    assert get_protocol("bd16-uniform", pixel_resolution=96).clip_sampling == "uniform"
    free = get_protocol("bd16-px128-free", pixel_resolution=256)
    assert free.name == "bd16-px256-free" and free.metrics == get_protocol("bd16-px128-free").metrics
    assert get_protocol("bd16-px128", pixel_resolution=128) is get_protocol("bd16-px128")
    assert get_protocol("bd16-px256").pixel_resolution == 256
    assert not get_protocol("bd16-px128-free").needs_weights() and get_protocol("bd16").needs_weights()
    assert "fvd" in get_protocol("bd16").scored_metrics
    with pytest.raises(ValueError, match="unknown or no metrics"):
        Protocol("x", metrics=("psnr", "sharpness"))
