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
