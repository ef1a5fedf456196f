"""Tar files written byte for byte the same on every run, and read with every member name checked first.

Shards and per-source result units are tars. Their bytes must depend on their content only (a resumed job ends
with the same bytes as an uninterrupted one), so every header field that would carry the writing machine or moment
(mtime, uid, gid, user and group names, mode) is fixed. Readers never trust a member name: a name must be a plain
`KEY.MEMBER` (no folders, no `..`, no absolute path, no link or device), checked before any byte is read.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

# A WebDataset key has no dot; the member suffix may have several (`pose.npy`). Nothing else is allowed.
MEMBER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_]+)+$")
FIXED_MTIME = 0


class TarMemberError(ValueError):
    """A tar holds a member this reader will not read (unsafe name or not a regular file)."""


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = FIXED_MTIME
    info.mode = 0o444
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def check_member_name(name: str, where: str = "tar") -> str:
    if not MEMBER_NAME.match(name) or ".." in name:
        raise TarMemberError(f"{where}: refusing member {name!r} (expected KEY.MEMBER, no folders or links)")
    return name


def write_tar(handle: BinaryIO, members: Iterable[tuple[str, bytes]]) -> int:
    """Write `(name, bytes)` pairs as a deterministic tar into an open binary file; returns the member count."""
    count = 0
    with tarfile.open(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            check_member_name(name, "writing a tar")
            tar.addfile(_info(name, len(data)), io.BytesIO(data))
            count += 1
    return count


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object], *, fsync: bool = True) -> None:
    """Write a file under a hidden temporary name beside it and rename it into place: readers see all or nothing."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def iter_tar(source: str | os.PathLike | BinaryIO, where: str | None = None) -> Iterator[tuple[str, bytes]]:
    """`(name, bytes)` of every member of a tar (a path or a stream), names checked before reading each member."""
    where = where or (os.fspath(source) if isinstance(source, (str, os.PathLike)) else "tar stream")
    if isinstance(source, (str, os.PathLike)):
        tar = tarfile.open(source, mode="r:")
    else:
        tar = tarfile.open(fileobj=source, mode="r|")
    with tar:
        for info in tar:
            check_member_name(info.name, where)
            if not info.isreg():
                raise TarMemberError(f"{where}: member {info.name!r} is not a regular file")
            handle = tar.extractfile(info)
            if handle is None:
                raise TarMemberError(f"{where}: cannot read member {info.name!r}")
            yield info.name, handle.read()


def split_member_name(name: str) -> tuple[str, str]:
    """`KEY.pose.npy` -> (`KEY`, `pose.npy`): WebDataset splits on the first dot."""
    key, _, member = name.partition(".")
    return key, member
