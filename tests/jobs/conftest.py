"""Fixtures for the curation job tests: a tiny synthetic corpus (128x128, 24 frames) and its config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jobhelpers import OPTIONS, TINY, TINY_CONFIG

from curation.config import config_from_dict
from curation.curate import run_job, sequential_engine
from curation.sources import resolve_sources
from curation.synthetic.corpus import write_corpus

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
# Under `uv run` (make test, CI) Ray would start its workers through a relative `uv run` from a copied working
# directory where that path does not exist, and every worker would fail to start; it reads this before `import ray`.
os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-corpus")
    write_corpus(8, out, seed=11, config=TINY, workers=2)
    return out


@pytest.fixture(scope="session")
def tiny_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import yaml

    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG))
    return path


@pytest.fixture(scope="session")
def reference_run(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run of the sequential engine on the tiny corpus."""
    out = tmp_path_factory.mktemp("reference")
    run_job(resolve_sources([tiny_corpus]), out, sequential_engine(config_from_dict(TINY_CONFIG)), OPTIONS)
    return out
