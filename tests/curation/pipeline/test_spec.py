"""How the stages group into pipeline operators: CPU stages fused behind the source stage, GPU stages alone, each
operator asking for the largest request of its stages under the configuration."""

from __future__ import annotations

from curation.config import CurationConfig, config_from_dict
from curation.pipeline.spec import CLIP_STAGES, plan_operators
from curation.resources import Resources
from curation.stages import DecodeStage


def _flat(operators) -> list[str]:
    return [name for operator in operators for name in operator.stages]


def test_cpu_backends_run_as_one_operator_with_the_largest_request() -> None:
    config = CurationConfig()
    (operator,) = plan_operators(config, CLIP_STAGES)
    assert operator.stages == (DecodeStage.name, *(stage.name for stage in CLIP_STAGES))
    requests = [DecodeStage.resources] + [stage.resources_for(config) for stage in CLIP_STAGES]
    assert operator.resources == Resources(
        cpus=max(r.cpus for r in requests), gpus=0.0, memory_gb=max(r.memory_gb for r in requests)
    )
    assert operator.resources.cpus == 1.0 and operator.resources.memory_gb == 1.5  # decode's 1.5 GB leads


def test_gpu_stages_stand_alone_and_keep_their_share() -> None:
    config = config_from_dict(
        {
            "pose": {"backend": "dwpose"},
            "foreground": {"backend": "sam2"},
            "tracks": {"backend": "cotracker3"},
            "sam2": {"device": "cpu"},
        }
    )
    operators = plan_operators(config, CLIP_STAGES)
    assert [op.stages for op in operators] == [
        ("decode",),
        ("pose",),
        ("foreground",),
        ("tracks",),
        ("camera", "quality", "filter", "encode"),
    ]
    assert _flat(operators) == ["decode", *(stage.name for stage in CLIP_STAGES)]  # nothing lost, order kept
    by_name = {op.name: op.resources for op in operators}
    assert by_name["pose"].gpus == 0.25 and by_name["tracks"].gpus == 0.5
    # SAM2 pinned to the CPU asks for no GPU but keeps its memory request; between two GPU stages it runs alone
    assert by_name["foreground"].gpus == 0.0 and by_name["foreground"].memory_gb == 6.0
    assert all(op.resources.gpus == 0 for op in operators if op.name not in ("pose", "tracks"))


def test_the_spec_lists_every_stage_once_and_both_runners_build_from_it() -> None:
    from curation.pipeline.spec import SOURCE_STAGE, STAGE_CLASSES, build_stages

    assert list(STAGE_CLASSES) == [SOURCE_STAGE.name, *(stage.name for stage in CLIP_STAGES)]
    source, stages = build_stages(CurationConfig())
    assert isinstance(source, SOURCE_STAGE)
    assert [type(stage) for stage in stages] == list(CLIP_STAGES)


def test_operators_that_load_a_model_are_marked(tmp_path) -> None:
    from curation.quality.iqa import NoReferenceScorer

    (plain,) = plan_operators(config_from_dict({"quality": {"pyiqa": [], "weights_dir": str(tmp_path)}}))
    assert not plain.loads_model
    # A pyiqa network is loaded (once per worker) only when its weights are there; absent, nothing is loaded.
    configured = config_from_dict({"quality": {"pyiqa": ["musiq"], "weights_dir": str(tmp_path)}})
    (absent,) = plan_operators(configured)
    assert not absent.loads_model
    NoReferenceScorer("musiq", tmp_path).path.write_bytes(b"")
    (present,) = plan_operators(configured)
    assert present.loads_model and present.stages == absent.stages
    learned = plan_operators(config_from_dict({"tracks": {"backend": "cotracker3"}}))
    assert [op.loads_model for op in learned] == [False, True, False]
