"""What the curate command says and where: progress lines in a piped log before the job ends, --quiet, a refused
re-run naming the differences, and the shards commands on a folder with nothing to show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from jobs.cli import cli
from tests.helpers.jobs import TINY_CONFIG

PROGRESS = "curate progress: "


@pytest.mark.slow
def test_piped_output_shows_progress_lines_before_the_job_ends(
    tiny_corpus: Path, tiny_config_file: Path, tmp_path: Path
) -> None:
    """The Ray job as a cluster's batch job runs it: output to a pipe, read line by line while it runs."""
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))[:3]
    command = [sys.executable, "-m", "jobs.cli", "curate", *sources, "--out", str(tmp_path / "out")]
    command += ["--config", str(tiny_config_file), "--progress-interval", "0.5"]
    command += ["--num-cpus", "2", "--object-store-mb", "100"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    lines, running_at_progress = [], []
    assert process.stdout is not None
    for line in process.stdout:  # a pipe, not a terminal: plain lines, as a cluster's job log gets them
        lines.append((time.monotonic(), line.rstrip()))
        if PROGRESS in line:
            running_at_progress.append(process.poll() is None)
    assert process.wait(timeout=300) == 0, "\n".join(text for _, text in lines)
    text = [t for _, t in lines]
    progress = [i for i, t in enumerate(text) if PROGRESS in t]
    summary = next(i for i, t in enumerate(text) if t.startswith("clips: "))
    assert len(progress) >= 3 and progress[0] < summary, text
    assert running_at_progress[0] and sum(running_at_progress) >= 2  # read while the job was still running
    assert " INFO jobs.progress: curate progress: 0/3 sources" in text[progress[0]]  # the logging module's lines
    assert "3/3 sources, 3 clips, 0 failed so far" in text[progress[-1]]
    assert not any("\x1b[" in t for t in text)  # no terminal control codes in a log
    assert not any("Token authentication" in t for t in text)  # Ray's start-up warning stays off the console


def test_quiet_says_nothing_and_a_refused_rerun_names_the_differences(tiny_corpus: Path, tmp_path: Path) -> None:
    source = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))[0]
    out = tmp_path / "out"
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(TINY_CONFIG))
    arguments = ["curate", source, "--out", str(out), "--config", str(config), "--engine", "sequential"]
    quiet = CliRunner().invoke(cli, [*arguments, "--quiet"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.output == ""
    assert (out / "README.md").is_file() and (out / "job_identity.json").is_file()
    refused = CliRunner().invoke(cli, [*arguments, "--test-fraction", "0.5"], catch_exceptions=False)
    assert refused.exit_code == 1
    assert "split.test_fraction: 0.1 -> 0.5" in refused.output and "--mode overwrite" in refused.output
    again = CliRunner().invoke(cli, [*arguments, "--test-fraction", "0.5", "--mode", "overwrite"])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "job_identity.json").read_text())["settings"]["split"]["test_fraction"] == 0.5


def test_shards_commands_refuse_a_folder_with_nothing_to_show(reference_run: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["shards", "inspect", str(empty)])
    assert result.exit_code == 1 and "no shards" in result.output
    result = CliRunner().invoke(cli, ["shards", "stats", str(empty)])
    assert result.exit_code == 1 and "no manifest.parquet" in result.output
    result = CliRunner().invoke(cli, ["shards", "stats", str(reference_run), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    manifest = pd.read_parquet(reference_run / "manifest.parquet")
    assert stats["clips"] == len(manifest) and stats["status"] == manifest["status"].value_counts().to_dict()
    for split, counts in stats["splits"].items():
        rows = manifest[manifest["split"] == split]
        assert counts["kept"] == counts["samples"] == (rows["status"] == "ok").sum()
        assert counts["shards"] == rows["shard"].nunique()
    frame = tmp_path / "frame.png"
    result = CliRunner().invoke(cli, ["shards", "inspect", str(reference_run), "--frame-png", str(frame)])
    assert result.exit_code == 0 and frame.stat().st_size > 1000, result.output
