"""Download, check and lock: the one place in backdrop that downloads (`backdrop weights download`).

Where the publisher gives no hash, the sha256 is computed at the first download and recorded in a lock file
(`weights.lock.json` in the weights directory, or `--lock PATH`), and `check` verifies the file against it from then on.

A download streams into a temporary file beside the target, hashes it on the way, and only a verified file is moved
into place (`os.replace`, atomic on one file system): a partial or mismatching file is never left under the
canonical name. TLS certificates are always verified (urllib's default context); plain http is refused except on
loopback (tests serve files from a local server).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from curation.hashing import file_sha256
from curation.weights.registry import WeightFile, how_to_get, weights_path

__all__ = ["LOCK_NAME", "CheckResult", "Lock", "WeightsError", "check", "download", "expected_hash", "verify"]

LOCK_NAME = "weights.lock.json"


class WeightsError(RuntimeError):
    """A weights file could not be fetched or does not match its recorded hash."""


class Lock:
    """The lock file: sha256 computed at a file's first download, for files whose publisher gives none."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.entries: dict[str, dict[str, str | int]] = {}
        if self.path.is_file():
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))

    def sha256(self, filename: str) -> str | None:
        entry = self.entries.get(filename)
        return None if entry is None else str(entry["sha256"])

    def record(self, weight: WeightFile, sha256: str, size: int) -> None:
        self.entries[weight.filename] = {"sha256": sha256, "size": size, "url": weight.url or ""}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.entries, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def expected_hash(weight: WeightFile, lock: Lock) -> tuple[str | None, str | None]:
    """(full sha256 or None, where it comes from): the publisher's, else the lock's."""
    if weight.sha256:
        return weight.sha256, "publisher"
    recorded = lock.sha256(weight.filename)
    return (recorded, "lock") if recorded else (None, None)


def verify(weight: WeightFile, path: Path, lock: Lock, sha256: str | None = None) -> str | None:
    """None when the file agrees with every known hash, else the reason it does not."""
    sha256 = sha256 or file_sha256(path)
    full, origin = expected_hash(weight, lock)
    if full and sha256 != full:
        return f"sha256 {sha256} differs from the {origin}'s {full}"
    if weight.sha256_prefix and not sha256.startswith(weight.sha256_prefix):
        return f"sha256 {sha256} does not start with the publisher's {weight.sha256_prefix}"
    return None


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise WeightsError(f"refusing {url}: only https (or http on loopback) is fetched")


def download(
    weight: WeightFile,
    weights_dir: str | os.PathLike | None = None,
    *,
    lock: Lock | None = None,
    url: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch one file into the weights directory, verified; returns its path. An existing file that verifies is
    kept. `url` overrides the canonical one (a mirror). Raises WeightsError on a mismatch or a failed transfer."""
    target = weights_path(weight.filename, weights_dir)
    root = weights_path("", weights_dir)  # a registry file name may name a subfolder (sd15's parts)
    lock = lock or Lock(root / LOCK_NAME)
    if target.is_file():
        problem = verify(weight, target, lock)
        if problem is None:
            if expected_hash(weight, lock)[0] is None:
                lock.record(weight, file_sha256(target), target.stat().st_size)
            return target
        raise WeightsError(f"{target} exists but {problem}; remove it to download again")
    url = url or weight.url
    if not url:
        raise WeightsError(how_to_get(weight, root))  # word for word what `check` says of this entry
    _check_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        request = urllib.request.Request(url, headers={"User-Agent": "backdrop-weights"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
                size += len(block)
        if length is not None and int(length) != size:
            raise WeightsError(f"{url}: transfer cut short ({size} of {length} bytes)")
        sha256 = digest.hexdigest()
        problem = verify(weight, tmp, lock, sha256)
        if problem is not None:
            raise WeightsError(f"{url}: refused, {problem}")
        os.replace(tmp, target)
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise WeightsError(f"{url}: download failed: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # after a failure (or an interrupt) no partial file stays behind
    if expected_hash(weight, lock)[0] is None:
        lock.record(weight, sha256, size)  # first download: this hash is checked from now on
    return target


@dataclass(frozen=True)
class CheckResult:
    weight: WeightFile
    path: Path
    status: str  # "ok", "missing", "mismatch", "unrecorded" (present, but no full hash known to check)
    detail: str = ""


def check(
    weights: Iterable[WeightFile], weights_dir: str | os.PathLike | None = None, *, lock: Lock | None = None
) -> list[CheckResult]:
    """Verify present files against their hashes and say which are missing."""
    results = []
    for weight in weights:
        path = weights_path(weight.filename, weights_dir)
        root = weights_path("", weights_dir)
        file_lock = lock or Lock(root / LOCK_NAME)
        if not path.is_file():
            results.append(CheckResult(weight, path, "missing", how_to_get(weight, root)))
            continue
        problem = verify(weight, path, file_lock)
        if problem is not None:
            results.append(CheckResult(weight, path, "mismatch", problem))
        elif expected_hash(weight, file_lock)[0] is None:
            results.append(
                CheckResult(
                    weight,
                    path,
                    "unrecorded",
                    "present but not downloaded by `backdrop weights`: no recorded sha256 to check it against",
                )
            )
        else:
            results.append(CheckResult(weight, path, "ok", expected_hash(weight, file_lock)[1] or ""))
    return results
