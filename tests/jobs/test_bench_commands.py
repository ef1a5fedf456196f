"""`backdrop bench define | export | run` and `backdrop leaderboard` from the command line: a folder of videos scored
against a benchmark with units, intervals, videos and frames on every line; a refused protocol; the leaderboard's
path printed."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from jobs.cli import cli


def test_bench_run_with_videos_and_the_leaderboard(bench, tmp_path):
    results = tmp_path / "results"
    args = ["bench", "run", str(bench.path), "--videos", str(bench.rows_dir / "reference-warped")]
    result = CliRunner().invoke(cli, [*args, "--name", "warped", "--out", str(results)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "videos," in line]
    assert len(lines) == len(bench.protocol.scored_metrics)
    for line in lines:  # units, the interval, how many videos and frames, the protocol
        assert "6 videos, 144 frames; bd16-px128-free" in line
    assert any(" dB [" in line and line.split()[0] == "psnr" for line in lines)
    assert any("bg-track" in line and " px [" in line for line in lines)
    assert "bg-track: " in result.output and " px (" in result.output  # progress: clip, metric, value, unit
    table = pd.read_parquet(results / "warped.parquet")
    assert set(table["model"]) == {"warped"} and set(table["row_kind"]) == {"outside model"}
    reference = {r["metric"]: r["value"] for r in json.loads((bench.rows_dir / "reference-warped.json").read_text())}
    assert dict(zip(table["metric"], table["value"], strict=True)) == reference  # same videos, same values

    html = tmp_path / "board.html"
    result = CliRunner().invoke(cli, ["leaderboard", str(bench.path), str(results), "--out", str(html)])
    assert result.exit_code == 0, result.output
    assert str(html.resolve()) in result.output and 'data-model="warped"' in html.read_text()


def test_bench_define_refuses_a_protocol_that_cannot_separate(bench_shards, tmp_path):
    args = ["bench", "define", "--shards", str(bench_shards), "--protocol", "bd16-px128-free"]
    result = CliRunner().invoke(cli, [*args, "--pixel-resolution", "32", "--out", str(tmp_path / "b")])
    assert result.exit_code != 0
    assert "protocol bd16-px32-free is refused" in result.output and "larger pixel_resolution" in result.output


def test_bench_export_command(bench, tmp_path):
    out = tmp_path / "aa"
    result = CliRunner().invoke(
        cli, ["bench", "export", str(bench.path), "--format", "animateanyone", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in (out / "ref_images").glob("*.png")) == bench.keys
    assert json.loads((out / "export.json").read_text())["format"] == "animateanyone"
