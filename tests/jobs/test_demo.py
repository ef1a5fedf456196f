"""`backdrop demo` renders the synthetic corpus and curates it (one clip and the sequential engine here: the Ray
path of the same job is covered by the curate tests)."""

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
        cli, ["demo", "--out", str(out), "--n", "1", "--engine", "sequential"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "1 clips rendered" in text and "clips: 2 kept, 0 rejected, 0 failed" in text
    manifest = pd.read_parquet(out / "curated" / "manifest.parquet")
    assert list(manifest["status"]) == ["ok", "ok"] and (out / "curation.yaml").is_file()
    assert list((out / "curated" / "shards").glob("*.tar"))
