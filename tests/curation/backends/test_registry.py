"""The backend registry: the one list of backends that the configuration, the stages and the pipeline read."""

from __future__ import annotations

import cv2
import pytest

from curation.backends.registry import BACKENDS, backend_for, backend_names, get_backend, stage_resources
from curation.config import CurationConfig, config_from_dict
from curation.resources import Resources
from curation.stages import ForegroundStage, PoseStage, TrackStage


def test_every_stage_with_a_choice_has_a_cpu_default_first() -> None:
    assert backend_names("pose") == ("auto", "sidecar", "mediapipe", "dwpose")
    assert backend_names("foreground") == ("pose", "sam2")
    assert backend_names("tracks") == ("opencv-lk", "cotracker3")
    config = CurationConfig()
    for stage in ("pose", "foreground", "tracks"):
        default = backend_for(stage, config)
        assert default.name == backend_names(stage)[0] and not default.learned and default.load(config) is None
    with pytest.raises(KeyError, match="no backends"):
        backend_names("encode")


def test_learned_backends_name_their_settings_section_and_ask_for_a_gpu_share() -> None:
    config = CurationConfig()
    for backend in BACKENDS:
        if backend.learned:
            assert backend.settings is not None and hasattr(config, backend.settings)
            assert backend.resources is not None
            # mediapipe's models are small TFLite graphs made for CPUs: it asks for a core, not a GPU share.
            assert backend.resources.gpus > 0 or (backend.name == "mediapipe" and backend.resources.cpus >= 1)


def test_unknown_backend_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"pose.backend must be one of \['auto', 'sidecar', 'mediapipe', 'dwpose'\], got 'openpose'"
    ):
        config_from_dict({"pose": {"backend": "openpose"}})
    with pytest.raises(ValueError, match=r"tracks.backend must be one of \['opencv-lk', 'cotracker3'\]"):
        config_from_dict({"tracks": {"backend": "raft"}})
    with pytest.raises(ValueError, match=r"foreground\.backend must be one of"):
        get_backend("foreground", "matting")


def test_resources_follow_the_backend_and_its_device() -> None:
    cpu = CurationConfig()
    assert stage_resources("tracks", cpu, TrackStage.resources) == TrackStage.resources
    gpu = config_from_dict({"tracks": {"backend": "cotracker3"}})
    assert TrackStage.resources_for(gpu) == get_backend("tracks", "cotracker3").resources
    pinned = config_from_dict({"tracks": {"backend": "cotracker3"}, "cotracker": {"device": "cpu"}})
    assert TrackStage.resources_for(pinned) == Resources(cpus=2.0, gpus=0.0, memory_gb=6.0)
    assert stage_resources("camera", gpu, Resources(0.5, 0.0, 0.5)) == Resources(0.5, 0.0, 0.5)  # no choice there


def test_versions_recorded_for_the_cpu_backends_are_the_ones_shards_carry() -> None:
    config = CurationConfig()
    stages = {cls.name: cls(config) for cls in (PoseStage, ForegroundStage, TrackStage)}
    for stage in stages.values():
        stage.ensure_setup()
    assert stages["pose"].backend == "auto"  # until a clip says which it used: "sidecar" or mediapipe's version
    assert stages["foreground"].backend == "cpu"
    assert stages["tracks"].backend == f"opencv-lk {cv2.__version__}"
