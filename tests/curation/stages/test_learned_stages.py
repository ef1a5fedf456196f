"""The stages with every learned backend selected (tiny ONNX models, SAM2 with random weights at a small image size,
the CoTracker stand-in hub): the sequential runner produces schema-shaped outputs and records each backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from curation.backends.stand_ins import stand_in_settings
from curation.config import CurationConfig, config_from_dict
from curation.pipeline.sequential import run_sequential
from curation.record import OK
from curation.resources import Resources
from curation.stages import ForegroundStage, PoseStage, TrackStage
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import write_corpus


def learned_config(tmp_path: Path) -> CurationConfig:
    settings = stand_in_settings(tmp_path)
    settings["tracks"]["grid_step"] = 16
    # Filters off: the stand-ins' tracks are not a real camera's (this is about running every learned backend).
    return config_from_dict({"clips": {"frames": 8, "short_side": 96, "min_shot_frames": 4}, "filters": [], **settings})


def test_learned_stages_declare_gpu_shares(tmp_path: Path) -> None:
    config = config_from_dict(
        {
            "pose": {"backend": "dwpose"},
            "foreground": {"backend": "sam2"},
            "tracks": {"backend": "cotracker3"},
            "sam2": {"device": "cpu"},
        }
    )
    assert PoseStage.resources_for(config).gpus > 0 and TrackStage.resources_for(config).gpus > 0
    assert ForegroundStage.resources_for(config).gpus == 0  # pinned to the CPU: no GPU share asked for
    default = CurationConfig()
    for stage in (PoseStage, ForegroundStage, TrackStage):
        assert stage.resources_for(default) == stage.resources and isinstance(stage.resources, Resources)
    with pytest.raises(ValueError, match=r"tracks\.backend"):
        config_from_dict({"tracks": {"backend": "raft"}})


@pytest.mark.slow
def test_sequential_run_with_every_learned_backend(tmp_path: Path) -> None:
    [clip] = write_corpus(1, tmp_path / "corpus", seed=1, config=SynthConfig(width=96, height=96, frames=8))
    records = list(run_sequential([clip.video], learned_config(tmp_path), raise_errors=True))
    assert len(records) == 1 and records[0]["status"] == OK, records[0].get("reason")
    record = records[0]
    frames = record["frames"]
    t, h, w = frames.shape[:3]
    assert record["pose"].shape[0] == t and record["pose"].shape[2:] == (133, 3)
    assert record["fgmask"].shape == (t, h, w) and record["fgmask"].dtype == bool
    assert record["tracks"].shape[0] == t and record["visible"].shape == record["tracks"].shape[:2]
    assert record["track_mask"].shape == record["visible"].shape
    backends = record["backends"]
    assert backends["pose"].startswith("dwpose onnxruntime")
    assert backends["foreground"].startswith("sam2.1-tiny") and backends["tracks"].startswith("cotracker3-offline")
    assert np.isfinite(record["tracks"]).all()
