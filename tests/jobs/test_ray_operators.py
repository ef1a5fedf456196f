"""The Ray pipeline with its stages split over several operators (the shape a GPU stage gives it) ends with the
same shards as the sequential runner: records cross operators through the object store, end markers pass through."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import config_from_dict
from curation.pipeline.job import run_job
from curation.pipeline.spec import Operator
from curation.resources import Resources
from curation.video.source_lists import resolve_sources
from tests.helpers.jobs import OPTIONS, TINY_CONFIG, shard_contents

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_stages_split_over_operators(
    tiny_corpus: Path, reference_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jobs.ray_pipeline as pipeline

    # several hops between operators, as GPU stages make them (decode | pose | foreground+tracks | the rest), on CPUs;
    # the last as an actor pool (as a stage that loads a model runs: quality with a pyiqa network), the others as plain
    # tasks. Actors hold their CPUs for the whole job, so on these 2 CPUs only one operator can be a pool.
    split = [
        Operator(("decode",), Resources(1.0, 0.0, 1.5)),
        Operator(("pose",), Resources(0.5, 0.0, 0.5)),
        Operator(("foreground", "tracks"), Resources(1.0, 0.0, 1.0)),
        Operator(("camera", "quality", "filter", "encode"), Resources(1.0, 0.0, 1.0), loads_model=True),
    ]
    planned: list[int] = []

    def plan(config, *_):
        planned.append(len(split))
        return split

    monkeypatch.setattr(pipeline, "plan_operators", plan)
    pipeline.init_ray(None, num_cpus=2, object_store_mb=256)
    try:
        summary = run_job(
            resolve_sources([tiny_corpus]),
            tmp_path / "out",
            pipeline.ray_engine(config_from_dict(TINY_CONFIG)),
            OPTIONS,
        )
    finally:
        ray.shutdown()
    assert planned == [4] and summary.sources == 8
    assert shard_contents(tmp_path / "out") == shard_contents(reference_run)
