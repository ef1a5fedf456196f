"""The one backend registry: for each stage that has a choice, every backend by name, with its settings section, the
resources one worker needs, how its model is loaded and how its version is recorded.

The configuration checks names against it (`backend_names`), the stages load through it (`backend_for(...).load`),
and the pipeline asks it what a worker needs (`stage_resources`): a new backend is one entry here plus its module.
Learned backends' resources are placement requests sized from the models' footprints (weights plus one batch or
window at the default settings), not measurements; a GPU share lets several workers of small models share a device.
Heavy imports (ONNX Runtime, torch, SAM2) happen inside the loaders, on the worker, only when selected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curation.resources import Resources

if TYPE_CHECKING:
    from curation.config import CurationConfig


@dataclass(frozen=True)
class Backend:
    """One way of doing a stage's work."""

    stage: str  # the stage it serves: "pose", "foreground" or "tracks"
    name: str  # what the configuration says: `pose: {backend: NAME}`
    description: str
    settings: str | None = None  # the config section holding its settings (learned backends), None for CPU ones
    resources: Resources | None = None  # what one worker needs; None: the stage's own CPU request
    loader: Callable[[Any], Any] | None = None  # settings section -> the loaded model (None: nothing to load)
    cpu_version: Callable[[], str] | None = None  # recorded version of a backend with no model

    @property
    def learned(self) -> bool:
        return self.loader is not None

    def section(self, config: CurationConfig) -> Any:
        return getattr(config, self.settings) if self.settings else None

    def load(self, config: CurationConfig) -> Any:
        """The model, loaded once per worker (None for a backend with nothing to load)."""
        return self.loader(self.section(config)) if self.loader is not None else None

    def version(self, model: Any) -> str:
        """What every clip's metadata records for this backend."""
        if model is not None:
            return str(model.version)
        return self.cpu_version() if self.cpu_version is not None else self.name

    def resources_for(self, config: CurationConfig, default: Resources) -> Resources:
        """What one worker needs under `config`: without the GPU share when the settings pin it to the CPU."""
        if self.resources is None:
            return default
        section = self.section(config)
        return self.resources.on_cpu() if getattr(section, "device", None) == "cpu" else self.resources


def _dwpose(settings: Any) -> Any:
    from curation.backends.dwpose import DWPoseEstimator

    return DWPoseEstimator(settings)


def _sam2(settings: Any) -> Any:
    from curation.backends.sam2_masks import Sam2Masks

    return Sam2Masks(settings)


def _cotracker(settings: Any) -> Any:
    from curation.backends.cotracker import CoTrackerBackend

    return CoTrackerBackend(settings)


def _mediapipe(settings: Any) -> Any:
    from curation.backends.mediapipe_pose import shared_estimator

    return shared_estimator(settings)


def _opencv_version() -> str:
    import cv2

    return f"opencv-lk {cv2.__version__}"


BACKENDS: tuple[Backend, ...] = (
    Backend(
        "pose",
        "auto",
        "a sidecar where one is beside the video, otherwise mediapipe (loaded on first need)",
        settings="mediapipe",
    ),
    Backend("pose", "sidecar", "keypoints shipped beside the video (NAME.pose.npz|.npy, synthetic NAME.gt.npz)"),
    Backend(
        "pose",
        "mediapipe",
        "MediaPipe pose + hands + face mesh on the CPU, models in its wheel (curation/backends/mediapipe_pose.py)",
        settings="mediapipe",
        resources=Resources(cpus=1.0, memory_gb=1.0),  # three small TFLite graphs per person slot
        loader=_mediapipe,
    ),
    Backend(
        "pose",
        "dwpose",
        "DWPose whole-body on ONNX Runtime (curation/backends/dwpose.py)",
        settings="dwpose",
        resources=Resources(cpus=2.0, gpus=0.25, memory_gb=3.0),  # two ONNX sessions, a batch of frames and crops
        loader=_dwpose,
    ),
    Backend(
        "foreground",
        "pose",
        "the pose backend's segmentation (mediapipe), or the CPU mask drawn from the keypoints",
        cpu_version=lambda: "cpu",
    ),
    Backend(
        "foreground",
        "sam2",
        "SAM2 video predictor prompted with pose boxes (curation/backends/sam2_masks.py)",
        settings="sam2",
        resources=Resources(cpus=2.0, gpus=0.5, memory_gb=6.0),  # one window's frames and memory bank on the host
        loader=_sam2,
    ),
    Backend("tracks", "opencv-lk", "the CPU tracker: pyramidal Lucas-Kanade", cpu_version=_opencv_version),
    Backend(
        "tracks",
        "cotracker3",
        "CoTracker3 through torch.hub (curation/backends/cotracker.py)",
        settings="cotracker",
        resources=Resources(cpus=2.0, gpus=0.5, memory_gb=6.0),  # one window of frames at max_side
        loader=_cotracker,
    ),
)


def backend_names(stage: str) -> tuple[str, ...]:
    """The backends a stage can be configured with, the CPU default first."""
    names = tuple(b.name for b in BACKENDS if b.stage == stage)
    if not names:
        raise KeyError(f"no backends are registered for stage {stage!r}")
    return names


def get_backend(stage: str, name: str) -> Backend:
    for backend in BACKENDS:
        if backend.stage == stage and backend.name == name:
            return backend
    raise ValueError(f"{stage}.backend must be one of {list(backend_names(stage))}, got {name!r}")


def backend_for(stage: str, config: CurationConfig) -> Backend:
    """The backend `config` selects for `stage` (its section's `backend` key)."""
    return get_backend(stage, getattr(config, stage).backend)


def stage_resources(stage: str, config: CurationConfig, default: Resources) -> Resources:
    """What one worker of `stage` needs under `config` (`default`: the stage's CPU request)."""
    if stage not in {b.stage for b in BACKENDS}:
        return default
    return backend_for(stage, config).resources_for(config, default)
