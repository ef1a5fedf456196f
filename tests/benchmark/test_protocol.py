"""Protocols: views carry what determines a metric, arguments are validated, files are hashed."""

from __future__ import annotations

import dataclasses

import pytest

from benchmark.protocol import Protocol, get_protocol, sha256_file


def test_views_only_carry_what_matters_for_the_metric() -> None:
    p = get_protocol("bd16")
    q = dataclasses.replace(p, fid_frames=4)
    assert p.view_json("fvd") == q.view_json("fvd")  # FVD does not depend on FID's frame sampling
    assert p.view_json("fid") != q.view_json("fid")
    assert p.view("fvd")["network"]["name"] == "i3d-400"
    assert get_protocol("bd16-stylegan-v").view("fvd")["network"]["name"] == "i3d-torchscript"


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
