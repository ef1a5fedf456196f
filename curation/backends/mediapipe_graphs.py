"""The mediapipe graphs behind the pose backend (`curation.backends.mediapipe_pose`): their settings, importing and
building them quietly, and one person's set of graphs (BlazePose with segmentation, the hand model, the face mesh)
with what it takes to make them forget a clip.

mediapipe prints absl log lines on file descriptor 2 at import, construction and first use, which are silenced here;
its import takes a few seconds (it imports matplotlib.pyplot), so it happens only when the backend is first needed.
`model_complexity` 0 and 2 download their model at construction, so only 1 (the full model, in the wheel) is used.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "PAINT_GREY",
    "POSE_COMPLEXITY",
    "MediaPipeSettings",
    "PersonGraphs",
    "import_mediapipe",
    "mediapipe_available",
    "quiet_stderr",
]

#: BlazePose's model complexity: 1 is the model inside the wheel (0 and 2 download theirs at construction).
POSE_COMPLEXITY = 1
#: The grey that paints found persons out (so the next graph finds someone else) and that a graph is shown to forget.
PAINT_GREY = 127
#: What a graph is shown to make it forget its person (`PersonGraphs.reset`): nobody on a uniform grey.
_BLANK = np.full((64, 64, 3), PAINT_GREY, np.uint8)


@dataclass(frozen=True)
class MediaPipeSettings:
    max_persons: int = 2  # BlazePose graphs per frame, each following one person
    search_every: int = 8  # a graph beyond the first that follows nobody looks for a person every this many frames
    hands: bool = True  # run the hand model on a crop around each person
    face: bool = True  # run the face mesh on a crop around each person's head
    min_keypoints: int = 4  # visible body points (inside the frame) for a person to count
    min_visibility: float = 0.5  # BlazePose visibility for a point to count as visible
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    mask_threshold: float = 0.5  # segmentation probability above which a pixel is the person's

    def __post_init__(self) -> None:
        if not 1 <= self.max_persons <= 8:
            raise ValueError(f"mediapipe.max_persons must lie in [1, 8], got {self.max_persons}")
        if self.search_every < 1:
            raise ValueError(f"mediapipe.search_every must be at least 1, got {self.search_every}")
        if self.min_keypoints < 1:
            raise ValueError(f"mediapipe.min_keypoints must be at least 1, got {self.min_keypoints}")
        for name in ("min_visibility", "min_detection_confidence", "min_tracking_confidence", "mask_threshold"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"mediapipe.{name} must lie in [0, 1], got {value}")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Mediapipe's noise silenced for the duration: file descriptor 2 to /dev/null (its C++ logging), sys.stderr
    too (its bindings print a protobuf AttributeError there, harmless under protobuf 6) and its DeprecationWarnings
    (protobuf's `label()`)."""
    saved = os.dup(2)
    try:
        with (
            open(os.devnull, "wb") as null,
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", DeprecationWarning)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_mediapipe() -> Any:
    """The mediapipe module, imported quietly; ImportError with what to do instead when it is not installed."""
    try:
        with quiet_stderr():
            import mediapipe
    except ImportError as error:
        raise ImportError(
            "the mediapipe pose backend needs the `mediapipe` package (0.10.21; wheels for Linux x86_64, macOS and "
            "Windows only): install it, put a pose sidecar beside each video, or configure `pose: {backend: dwpose}`"
        ) from error
    return mediapipe


def mediapipe_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mediapipe") is not None


class PersonGraphs:
    """The graphs that follow one person: BlazePose with segmentation, and the hand and face models on crops."""

    def __init__(self, mp: Any, settings: MediaPipeSettings) -> None:
        solutions = mp.solutions
        self.pose = solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=POSE_COMPLEXITY,
            smooth_landmarks=True,
            enable_segmentation=True,
            smooth_segmentation=True,
            min_detection_confidence=settings.min_detection_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
        )
        self.hands = (
            solutions.hands.Hands(
                static_image_mode=False,
                max_num_hands=2,
                model_complexity=0,
                min_detection_confidence=settings.min_detection_confidence,
                min_tracking_confidence=settings.min_tracking_confidence,
            )
            if settings.hands
            else None
        )
        self.face = (
            solutions.face_mesh.FaceMesh(
                static_image_mode=False,
                max_num_faces=1,
                refine_landmarks=False,
                min_detection_confidence=settings.min_detection_confidence,
                min_tracking_confidence=settings.min_tracking_confidence,
            )
            if settings.face
            else None
        )
        self.following = False  # whether this graph found its person in the previous frame
        # The crops the hand and face models see, kept while the part stays inside: their own tracking (which skips
        # their detectors) only works when the crop does not move under them.
        self.crops: dict[str, tuple[int, int, int, int] | None] = {"hands": None, "face": None}
        # Graphs that found something since their last reset: only they hold tracking state (the previous frame's
        # region, smoothing filters); a graph that found nothing starts the next frame as a fresh one would.
        self.dirty: set[str] = set()
        self.settle()

    def settle(self) -> None:
        """Wait until every graph's calculators have opened: they open (and log) on worker threads after the graph
        starts, so without this their lines would reach stderr after it is no longer silenced."""
        for graph in self.graphs():
            graph._graph.wait_until_idle()

    def graphs(self) -> list[Any]:
        return [g for g in (self.pose, self.hands, self.face) if g is not None]

    def reset(self) -> None:
        """Forget the previous clip, so that a clip's result does not depend on the clip a worker processed before.
        Only a graph that found something holds state (the previous frame's region, smoothing filters). The hand and
        face graphs drop all of theirs on a frame where they find nothing, so they are shown one blank frame (a
        detector run); BlazePose keeps smoothing state (visibility, segmentation) across such a frame and is
        restarted, which reloads its models (about 0.3 s of CPU here: restarting all six graphs would cost about
        15 ms per frame of a 48-frame clip)."""
        for name in sorted(self.dirty):
            graph = getattr(self, name)
            if name == "pose" or _found_anything(graph.process(_BLANK)):
                graph.reset()
        self.dirty = set()
        self.following = False
        self.crops = {"hands": None, "face": None}
        self.settle()

    def close(self) -> None:
        for graph in self.graphs():
            graph.close()


def _found_anything(result: Any) -> bool:
    """Whether a pose, hands or face mesh result holds landmarks."""
    return any(
        getattr(result, field, None) for field in ("pose_landmarks", "multi_hand_landmarks", "multi_face_landmarks")
    )
