"""A fingerprint of what backdrop produces, to show that a restructuring changed no behaviour.

Renders a 12-clip synthetic corpus (one clip per camera recipe), curates it twice (the sequential engine and a local
Ray), writes and scores the training-free reference rows (background-motion suite) and scores the frozen row against
the ground truth with PSNR (SSIM costs 25 s and 5 GB a 512x512 clip here). Everything goes through the `backdrop`
command line, whose commands are stable across refactors, so the same script runs on any revision.

The fingerprint holds the sha256 of every shard, index and manifest file and every score at full precision. A run is
compared against the committed baseline (or `--compare OLD.json`): files byte for byte, scores within 1e-9; it exits
1 on any difference. Shards record the sources' absolute paths, so compare runs made in the same `--work` folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobs.bench.report import REPORTS, write_report

DEMO_CONFIG = "clips:\n  frames: 24\n  short_side: 256\ntracks:\n  grid_step: 16\nquality:\n  pyiqa: []\n"
TOLERANCE = 1e-9
#: Made by this script (`--no-compare --save reports/behaviour_fingerprint.json`) on the code of commit 18e187c
#: (the first baseline, of commit 816e5bd, checked issue 10's restructuring; issues 14 and 15 then changed what
#: curation writes on purpose: default filters, the job's identity in every sample, per-shard statistics, the card).
BASELINE_COMMIT = "18e187c"
BASELINE = REPORTS / "behaviour_fingerprint.json"


def backdrop(*args: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "jobs.cli", *map(str, args)], check=True)


def hash_tree(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` except the ledger and lock (their bytes hold timings and process ids)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "work" not in path.relative_to(folder).parts
    }


def score_values(path: Path) -> dict[str, Any]:
    rows = json.loads(path.read_text())
    return {row["metric"]: {"value": row["value"], "per_video": row.get("per_video")} for row in rows}


def fingerprint(work: Path) -> dict[str, Any]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    corpus = work / "synthetic"
    backdrop("synth", "--n", 12, "--out", corpus, "--seed", 0, "--workers", 2)
    config = work / "curation.yaml"
    config.write_text(DEMO_CONFIG)
    result: dict[str, Any] = {"corpus": hash_tree(corpus)}
    for engine in ("sequential", "ray"):
        out = work / f"curated-{engine}"
        backdrop(
            "curate",
            corpus,
            "--out",
            out,
            "--config",
            config,
            "--engine",
            engine,
            "--test-fraction",
            0.2,
            "--shard-mb",
            64,
            *(["--num-cpus", 2] if engine == "ray" else []),
        )
        result[f"curated-{engine}"] = hash_tree(out)
    rows = work / "rows"
    backdrop("reference-rows", "--ref", corpus, "--out", rows)
    result["reference-rows"] = {
        name: score_values(rows / f"{name}.json")
        for name in ("ground-truth", "frozen-background", "shifted-background")
    }
    backdrop(
        "score",
        "--pred",
        rows / "frozen-background",
        "--ref",
        corpus,
        "--protocol",
        "bd16",
        "--metrics",
        "psnr",
        "--out",
        rows / "frozen-pixel",
    )
    result["frozen-pixel"] = score_values(rows / "frozen-pixel.json")
    return result


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """Every place where `new` differs from `old`: strings exactly, numbers within TOLERANCE (NaN equals NaN)."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = [f"{where}/{k}: only in the old run" for k in old.keys() - new.keys()]
        found += [f"{where}/{k}: only in the new run" for k in new.keys() - old.keys()]
        for key in sorted(old.keys() & new.keys()):
            found += differences(old[key], new[key], f"{where}/{key}")
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(old, int | float) and isinstance(new, int | float):
        same = (math.isnan(old) and math.isnan(new)) or abs(old - new) <= TOLERANCE
        return [] if same else [f"{where}: {old!r} -> {new!r}"]
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/backdrop-fingerprint"))
    parser.add_argument(
        "--compare",
        type=Path,
        default=BASELINE,
        help="An earlier fingerprint to compare against (default: the baseline).",
    )
    parser.add_argument("--no-compare", action="store_true", help="Only write the fingerprint (a new baseline).")
    parser.add_argument("--save", type=Path, default=Path("/tmp/backdrop-fingerprint.json"))
    args = parser.parse_args()
    if args.no_compare:
        args.compare = None
    result = fingerprint(args.work)
    compared = ""
    if args.compare is not None:
        found = differences(json.loads(args.compare.read_text()), result)
        for line in found:
            print(line)
        print(f"{len(found)} differences against {args.compare}")
        compared = f"This run against `{args.compare}`: **{len(found)} differences**.\n"
        if found:
            compared += "".join(f"- {line}\n" for line in found[:50])
    args.save.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    files = sum(len(v) for k, v in result.items() if k.startswith(("corpus", "curated")))
    body = (
        f"Files hashed: {files}; scores: reference rows (background suite) and the frozen row's PSNR.\n"
        f"Fingerprint written to `{args.save}`. The baseline `reports/behaviour_fingerprint.json` was made by this\n"
        f"script (`--no-compare --save reports/behaviour_fingerprint.json`) on the code of commit {BASELINE_COMMIT};\n"
        "by default a run is compared with it: files byte for byte, scores within"
        f" {TOLERANCE:g}.\n\n{compared}"
    )
    print(write_report("behaviour_fingerprint", "jobs.bench.behaviour_fingerprint", body))
    if compared and found:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
