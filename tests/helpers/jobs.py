"""Helpers of the curation job tests (fixtures are in conftest.py)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from curation.pipeline.job import JobOptions
from curation.shards.tar_files import iter_tar
from curation.synthetic.clip import SynthConfig

TINY = SynthConfig(width=128, height=128, frames=24, fps=24.0, grid_step=8)
TINY_CONFIG = {"clips": {"frames": 24, "short_side": 128}, "quality": {"pyiqa": []}}
OPTIONS = JobOptions(test_fraction=0.3, shard_mb=0.25)


def shard_contents(out: Path) -> dict[str, str]:
    """`KEY.MEMBER` -> sha256 of its bytes, over every shard of a job's output (duplicates would raise)."""
    hashes: dict[str, str] = {}
    for shard in sorted((out / "shards").glob("*.tar")):
        for name, data in iter_tar(shard):
            assert name not in hashes, f"{name} appears twice"
            hashes[name] = hashlib.sha256(data).hexdigest()
    return hashes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shard_samples(out: Path) -> dict[str, dict[str, bytes]]:
    """KEY -> {MEMBER: bytes} over every shard of a job's output."""
    samples: dict[str, dict[str, bytes]] = {}
    for shard in sorted((out / "shards").glob("*.tar")):
        for name, data in iter_tar(shard):
            key, member = name.split(".", 1)
            samples.setdefault(key, {})[member] = data
    return samples
