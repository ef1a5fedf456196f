"""The job's identity: the resolved settings that decide an output folder's content, their hash, and the versions
that made it; and the rule that a folder is only ever written under one set of settings.

The settings are the curation configuration (every section, defaults included) and the split (test fraction and
salt): together they decide every clip's bytes and every clip's split. They are written to `OUT/job_identity.json`
when a job starts (so even a killed first run leaves them), their hash goes into every sample's JSON (`job`) and the
manifest's metadata, and the versions (backdrop, and each stage's backend as the clips recorded it) are added when
the job ends. The shard size is recorded too but is not part of the settings: a different size only re-packs the
same clips.

A job finds the folder in one of three states: empty (it starts), made with the same settings (it resumes or
extends), or made with other settings (it is refused, naming each difference, unless the mode is `overwrite`).
The modes follow video2dataset's: `resume` (the default: the folder holds exactly the given sources, finished ones
are kept), `extend` (the folder keeps every source it holds and adds the given ones) and `overwrite` (everything
the job wrote before is removed first).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from curation.config import CurationConfig
from curation.shards.split import SPLIT_SALT
from curation.shards.tar_files import atomic_write

IDENTITY_FILE = "job_identity.json"
IDENTITY_KIND = "backdrop-curation-job-v1"
RESUME, EXTEND, OVERWRITE = "resume", "extend", "overwrite"
MODES = (RESUME, EXTEND, OVERWRITE)
#: What a job writes in its output folder (besides `work/job.lock`): what `overwrite` removes.
JOB_OUTPUTS = ("shards", "manifest.parquet", IDENTITY_FILE, "card", "README.md", "work/units", "work/ledger.jsonl")


class SettingsMismatchError(ValueError):
    """The output folder was curated with other settings than this job's."""


def backdrop_version() -> str:
    try:
        return version("backdrop")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _plain(value: Any) -> Any:
    """Settings as JSON reads them back (tuples as lists), so a stored copy compares equal to a fresh one."""
    return json.loads(json.dumps(value, sort_keys=True))


@dataclass(frozen=True)
class JobIdentity:
    """The settings that decide a folder's content (`curation`, `split`)."""

    settings: dict[str, Any]

    @classmethod
    def of(cls, config: CurationConfig, test_fraction: float) -> JobIdentity:
        split = {"test_fraction": float(test_fraction), "salt": SPLIT_SALT}
        return cls(_plain({"curation": config.to_dict(), "split": split}))

    @property
    def settings_sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.settings, sort_keys=True).encode()).hexdigest()

    def stamp(self) -> dict[str, str]:
        """What every sample's JSON records about the job that made it."""
        return {"settings_sha256": self.settings_sha256, "backdrop_version": backdrop_version()}

    def document(self, **extra: Any) -> dict[str, Any]:
        """The identity file's content: kind, settings, their hash, backdrop's version, then `extra` (the shard
        size, and at the end the backends' versions and counts)."""
        return {
            "kind": IDENTITY_KIND,
            "settings_sha256": self.settings_sha256,
            "backdrop_version": backdrop_version(),
            "settings": self.settings,
            **_plain(extra),
        }


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """`path: old -> new` for every setting that differs (nested mappings compared key by key)."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            found += differences(old.get(key), new.get(key), f"{where}.{key}" if where else str(key))
        return found
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def read_identity(out: str | os.PathLike) -> dict[str, Any] | None:
    """The identity file of a folder (None when it has none); a damaged one raises ValueError naming it."""
    path = Path(out) / IDENTITY_FILE
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read the job's identity: {error}") from error
    if not isinstance(document, dict) or document.get("kind") != IDENTITY_KIND:
        raise ValueError(f"{path}: not a backdrop job identity (kind {IDENTITY_KIND!r} expected)")
    return document


def write_identity(out: str | os.PathLike, document: dict[str, Any]) -> Path:
    path = Path(out) / IDENTITY_FILE
    data = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()
    atomic_write(path, lambda handle: handle.write(data))
    return path


def _holds_curated_sources(out: Path) -> bool:
    ledger = out / "work" / "ledger.jsonl"
    return (ledger.is_file() and ledger.stat().st_size > 0) or (out / "manifest.parquet").is_file()


def remove_job_outputs(out: str | os.PathLike) -> list[Path]:
    """Remove what earlier jobs wrote in `out` (shards, manifest, identity, card, ledger and units); other files
    stay. Returns what was removed."""
    removed = []
    for name in JOB_OUTPUTS:
        path = Path(out) / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed


def claim_folder(out: str | os.PathLike, identity: JobIdentity, mode: str = RESUME) -> dict[str, Any] | None:
    """Check (and in `overwrite` mode clear) `out` for a job with `identity`; returns the identity document the
    folder held (None when it held none, or was cleared).

    Raises SettingsMismatchError naming every difference when the folder holds clips made under other settings (or
    under settings it never recorded) and the mode is not `overwrite`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    out = Path(out)
    if mode == OVERWRITE:
        remove_job_outputs(out)
        return None
    held = read_identity(out)
    if held is None:
        if _holds_curated_sources(out):
            raise SettingsMismatchError(
                f"{out} holds curated sources but no {IDENTITY_FILE} (it was made by a backdrop that did not record "
                f"its settings), so they cannot be checked against this job's; use --mode overwrite to curate it "
                f"again, or another --out"
            )
        return None
    found = differences(held.get("settings"), identity.settings)
    if found:
        raise SettingsMismatchError(
            f"{out} was curated with other settings (settings {str(held.get('settings_sha256'))[:12]}, this job "
            f"{identity.settings_sha256[:12]}); a folder holds clips of one set of settings only. Differences "
            f"(folder -> this job): " + "; ".join(found) + ". Use the folder's settings to resume or extend it, "
            "--mode overwrite to replace its clips, or another --out."
        )
    return held
