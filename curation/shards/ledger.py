"""The job's ledger of finished sources: the commit point that makes a curation job exactly once and resumable.

A source is committed as one unit: `OUT/work/units/UNIT.tar` holds `rows.json` (the manifest rows of all its
records) and the members of its kept clips, and is written under a temporary name and renamed into place. Then a
line `{path, size, mtime_ns, unit}` is appended to `OUT/work/ledger.jsonl`. A re-run skips a source whose path, size
and modification time are in the ledger and whose unit exists. A crash between the rename and the ledger line only
makes the source run again, and its unit is rewritten with the same bytes (clip processing is deterministic).

One job at a time writes an output folder: `job_lock` holds `OUT/work/job.lock` (an OS file lock, released by the
kernel however the holder ends) for the job's lifetime. A job killed mid-write leaves a hidden `.NAME.PID.partial`
file; whoever next holds the lock knows no writer is left and removes them.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.shards.tar_files import atomic_write, iter_tar, split_member_name, write_tar

ROWS_MEMBER = "rows.json"
LOCK_NAME = "job.lock"


class JobLockedError(RuntimeError):
    """Another curation job holds the output folder."""


def _stale_partials(out: Path) -> list[Path]:
    """Temporary files of `atomic_write` in the folders a job writes (units, shards, the manifest's folder)."""
    return [
        p
        for folder in (out / "work" / "units", out / "shards", out)
        if folder.is_dir()
        for p in folder.glob(".*.partial")
    ]


@contextmanager
def job_lock(out: str | os.PathLike) -> Iterator[list[Path]]:
    """Hold the output folder for one job; yields the half-written files of a killed earlier job, now removed."""
    out = Path(out)
    root = out / "work"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobLockedError(
                f"{out}: another curation job is writing this folder (it holds {root / LOCK_NAME}); "
                "wait for it to end or give another --out"
            ) from None
        stale = _stale_partials(out)
        for path in stale:
            path.unlink(missing_ok=True)
        _drop_cut_line(root / "ledger.jsonl")
        yield stale


def _drop_cut_line(path: Path) -> None:
    """Cut a last ledger line that a crash left without its newline, so the next line starts on a line of its own."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
            os.fsync(handle.fileno())


@dataclass(frozen=True)
class SourceStamp:
    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str) -> SourceStamp:
        try:
            stat = os.stat(path)
        except OSError:
            return cls(path, -1, -1)  # unreadable now: it is run (and reported) again every time
        return cls(path, stat.st_size, stat.st_mtime_ns)


class Ledger:
    def __init__(self, out: str | os.PathLike) -> None:
        self.root = Path(out) / "work"
        self.units = self.root / "units"
        self.path = self.root / "ledger.jsonl"
        self.units.mkdir(parents=True, exist_ok=True)
        self._done: dict[SourceStamp, str] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash: that source simply runs again
                stamp = SourceStamp(entry["path"], entry["size"], entry["mtime_ns"])
                self._done[stamp] = entry["unit"]

    def unit_path(self, unit: str) -> Path:
        return self.units / f"{unit}.tar"

    def finished_unit(self, source: str) -> str | None:
        """The unit of a source finished by an earlier run (same path, size and mtime), if its file exists."""
        unit = self._done.get(SourceStamp.of(source))
        return unit if unit is not None and self.unit_path(unit).exists() else None

    def finished(self) -> dict[str, str]:
        """Every source the ledger holds (path -> unit, the latest entry of a path) whose unit exists."""
        units = {stamp.path: unit for stamp, unit in self._done.items()}
        return {path: unit for path, unit in sorted(units.items()) if self.unit_path(unit).exists()}

    def commit(self, source: str, unit: str, results: list[dict[str, Any]]) -> None:
        """Write a source's unit atomically, then record it in the ledger."""
        results = sorted(results, key=lambda r: r["key"])
        rows = json.dumps([r["row"] for r in results], sort_keys=True).encode()

        def members() -> Iterator[tuple[str, bytes]]:
            yield ROWS_MEMBER, rows
            for result in results:
                for member, data in sorted((result["members"] or {}).items()):
                    yield f"{result['key']}.{member}", data

        atomic_write(self.unit_path(unit), lambda handle: write_tar(handle, members()))
        stamp = SourceStamp.of(source)
        line = json.dumps({"path": stamp.path, "size": stamp.size, "mtime_ns": stamp.mtime_ns, "unit": unit})
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._done[stamp] = unit


def read_unit_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    for name, data in iter_tar(path):
        if name == ROWS_MEMBER:
            return json.loads(data)
        break
    raise ValueError(f"{path}: not a curation unit (its first member is not {ROWS_MEMBER})")


def iter_unit_samples(path: str | os.PathLike) -> Iterator[tuple[str, dict[str, bytes]]]:
    """`(key, {member: bytes})` of each kept clip of a unit, in key order."""
    key, members = None, {}
    for name, data in iter_tar(path):
        if name == ROWS_MEMBER:
            continue
        this, member = split_member_name(name)
        if this != key and key is not None:
            yield key, members
            members = {}
        key = this
        members[member] = data
    if key is not None:
        yield key, members
