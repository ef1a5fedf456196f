"""`backdrop demo` renders the synthetic corpus, curates it and trains the tiny model on it (one clip, the
sequential engine and the in-process trainer here: the Ray paths of the same jobs are covered by the curate and
train tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from jobs.cli import cli


@pytest.mark.slow
def test_demo_renders_and_curates(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli,
        ["demo", "--out", str(out), "--n", "1", "--engine", "sequential", "--image-steps", "2", "--video-steps", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "1 clips rendered" in text and "clips: 2 kept, 0 rejected, 0 failed" in text
    manifest = pd.read_parquet(out / "curated" / "manifest.parquet")
    assert list(manifest["status"]) == ["ok", "ok"] and (out / "curation.yaml").is_file()
    assert list((out / "curated" / "shards").glob("*.tar"))
    assert "done at step 3 of 3" in text and (out / "run" / "checkpoints" / "step-00000003").is_dir()
