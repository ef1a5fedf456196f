"""The README's "Reading shards for training" snippet runs as written, on a tiny curated run (only its path
replaced), and prints the batches it promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from curation.shards.reader import shard_dataset

README = Path(__file__).resolve().parents[3] / "README.md"


def _snippet() -> str:
    text = README.read_text()
    section = text[text.index("## Reading shards for training") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the section has no python snippet"
    return match.group(1)


def test_the_readme_snippet_runs(reference_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _snippet()
    assert code.count('"out/shards-run"') == 2
    exec(compile(code.replace('"out/shards-run"', repr(str(reference_run))), str(README), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5  # two epochs of two batches, then one map-style batch
    assert all("torch.Size([2, 24, 128, 128, 3])" in line for line in lines[:4])
    assert lines[4].startswith(f"{len(list(shard_dataset(reference_run)))} [") and "torch.Size([2, 24," in lines[4]
