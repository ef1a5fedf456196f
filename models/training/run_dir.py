"""A training run's folder, RUN/:

    run.yaml          the run configuration (model and train sections), the shards and their manifest's sha256
    checkpoints/      step-NNNNNNNN/ folders (models.training.checkpoints)
    logs/             TensorBoard event files
    samples/          sample videos written at each validation (ground truth | generated)

Running `backdrop train` again with the same RUN resumes it; a RUN made with another configuration or other data is
refused, with the differences named, rather than mixed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curation.hashing import file_sha256
from curation.pipeline.job_identity import backdrop_version


@dataclass(frozen=True)
class RunFolder:
    path: Path
    config: dict[str, Any]  # the run configuration's plain data: {"model": ..., "train": ...}
    shards: Path
    manifest_sha256: str | None

    def state(self) -> dict[str, Any]:
        """What every checkpoint records about how it was made."""
        return {
            "config": self.config,
            "shards": str(self.shards),
            "manifest_sha256": self.manifest_sha256,
            "backdrop_version": backdrop_version(),
        }


def manifest_of(shards: Path) -> Path | None:
    """The curate job's manifest for a job output folder or its `shards/` folder."""
    for candidate in (shards / "manifest.parquet", shards.parent / "manifest.parquet"):
        if candidate.is_file():
            return candidate
    return None


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            found += _differences(old.get(key), new.get(key), f"{where}.{key}" if where else str(key))
        return found
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def prepare_run(path: str | os.PathLike, config: dict[str, Any], shards: str | os.PathLike) -> RunFolder:
    """Create RUN (or check that an existing one was made with the same configuration and data) and return it, with
    absolute paths: Ray Train workers run in folders of their own, where a relative RUN names another place."""
    path, shards = Path(path).resolve(), Path(shards)
    manifest = manifest_of(shards)
    digest = file_sha256(manifest) if manifest is not None else None
    record = {"config": config, "shards": str(shards.resolve()), "manifest_sha256": digest}
    run_file = path / "run.yaml"
    if run_file.is_file():
        held = yaml.safe_load(run_file.read_text(encoding="utf-8")) or {}
        differences = _differences(held.get("config"), config, "config")
        if held.get("manifest_sha256") != digest:
            differences.append(f"manifest_sha256: {held.get('manifest_sha256')} -> {digest} ({manifest})")
        if differences:
            raise ValueError(
                f"{path} holds a run made with other settings or data; it resumes only with the same ones. "
                "Differences: " + "; ".join(differences) + ". Use another --out for a new run."
            )
    else:
        path.mkdir(parents=True, exist_ok=True)
        partial = run_file.with_suffix(".partial")
        partial.write_text(yaml.safe_dump(record, sort_keys=False))
        os.replace(partial, run_file)
    return RunFolder(path, config, shards.resolve(), digest)


def read_run(path: str | os.PathLike) -> RunFolder:
    """An existing run's folder (for generation)."""
    run_file = Path(path) / "run.yaml"
    if not run_file.is_file():
        raise FileNotFoundError(f"{path}: not a training run (no run.yaml); make one with `backdrop train`")
    held = yaml.safe_load(run_file.read_text(encoding="utf-8"))
    return RunFolder(Path(path), held["config"], Path(held["shards"]), held.get("manifest_sha256"))
