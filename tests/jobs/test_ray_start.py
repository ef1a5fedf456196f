"""A local Ray that cannot start: retried with a growing wait, then one line naming `--engine sequential`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.ray_start import RayStartError, start_with_retries


def test_a_start_that_fails_twice_then_works_is_retried() -> None:
    calls, stops, waits = [], [], []

    def start() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("the raylet did not come up in time")

    start_with_retries(start, lambda: stops.append(1), attempts=3, first_wait_s=2.0, sleep=waits.append)
    assert len(calls) == 3 and len(stops) == 2 and waits == [2.0, 4.0]


def test_a_start_that_keeps_failing_says_so_in_one_line() -> None:
    def start() -> None:
        raise TimeoutError("Timed out after 30 s\nwith a second line")

    with pytest.raises(RayStartError) as failed:
        start_with_retries(start, lambda: None, attempts=2, first_wait_s=0.0, sleep=lambda s: None)
    message = str(failed.value)
    assert "\n" not in message and "2 tries" in message and "Timed out after 30 s" in message
    assert "--engine sequential" in message


def test_curate_answers_a_ray_that_does_not_start_without_a_traceback(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    tries = []

    def no_ray(*args, **kwargs) -> None:
        tries.append(kwargs.get("address"))
        raise TimeoutError("Timed out while waiting for the GCS to start")

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "init", no_ray)
    monkeypatch.setattr("jobs.ray_start.time.sleep", lambda seconds: None)
    video = sorted(tiny_corpus.glob("*.mp4"))[0]
    result = CliRunner().invoke(cli, ["curate", str(video), "--out", str(tmp_path / "out"), "--engine", "ray"])
    assert result.exit_code == 1 and len(tries) == 3
    assert "Traceback" not in result.output and "--engine sequential" in result.output
    assert "Timed out while waiting for the GCS" in " ".join(result.output.split())
