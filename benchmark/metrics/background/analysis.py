"""One generated video against its ground truth's background: the per-video measures of the background suite.

The ground truth's frame-0 background query points are tracked through the generated video with the CPU tracker
(`curation.motion.tracks.track_points`), the camera is estimated from those tracks
(`curation.motion.camera_estimation`), and everything is compared with the ground truth's tracks and homographies.
Definitions, units and conventions are in docs/metrics.md ("Background-motion suite");
`benchmark.metrics.background.suite` accumulates these values over videos.

Valid points: (t, n) with t >= 1 where the ground truth sees background point n both in frame 0 and in frame t.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from benchmark.metrics.background.epipolar import EpipolarConfig, epipolar_errors
from benchmark.metrics.background.truth import BackgroundTruth
from curation.motion import camera_labels as cm
from curation.motion.camera_estimation import CameraConfig, corner_error, estimate_camera
from curation.motion.track_mask import make_track_mask
from curation.motion.tracks import TrackerConfig, track_points

__all__ = ["SuiteConfig", "VideoBackground", "analyse_background", "first_frame_offset"]


@dataclass(frozen=True)
class SuiteConfig:
    """Everything that determines the suite's values besides the protocol; it goes into every result's view."""

    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    epipolar: EpipolarConfig = field(default_factory=EpipolarConfig)
    # The ground truth's person mask is dilated before it keeps the tracker's camera fit and the camera estimate off
    # the person: a generated person is never pixel-exact, and its edges would pull the background fit.
    mask_dilation_px: int = 5
    # The dynamics ratio needs a moving ground truth: below this median displacement the clip is left out of it.
    min_motion_px: float = 1.0

    def __post_init__(self) -> None:
        if self.mask_dilation_px < 0:
            raise ValueError(f"mask_dilation_px must be >= 0, got {self.mask_dilation_px}")
        if self.min_motion_px <= 0:
            raise ValueError(f"min_motion_px must be positive, got {self.min_motion_px}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class VideoBackground:
    """The suite's measures for one generated video (pixels at the compared resolution unless stated)."""

    track_epe: float  # mean end-point error over valid points
    camera_corner: float  # mean over frames t >= 1 of the mean image-corner distance between the two homographies
    camera_translation: float  # mean over t >= 1 of |centre translation difference|
    camera_rotation: float  # degrees, mean over t >= 1 of |rotation difference|
    camera_scale: float  # percent, mean over t >= 1 of 100·|ln(scale ratio)|
    label_agreement: float  # 1.0 when the estimated camera label equals the ground truth's, else 0.0
    predicted_label: str
    reference_label: str
    epipolar: float  # mean over valid points (Sampson distance or, on fallback frames, homography transfer error)
    epipolar_frames: int
    epipolar_fallback_frames: int
    motion_predicted: float  # median displacement from frame 0 of the tracked points, over valid points
    motion_reference: float  # the same for the ground truth's tracks
    dynamics: float | None  # motion_predicted / motion_reference; None when the ground truth barely moves
    valid_points: int


def _dilate(masks: np.ndarray, radius: int) -> np.ndarray:
    if radius == 0:
        return masks
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.stack([cv2.dilate(m.astype(np.uint8), kernel) for m in masks]).astype(bool)


def _camera_differences(
    predicted: np.ndarray, reference: np.ndarray, size: tuple[int, int]
) -> tuple[float, float, float]:
    """Mean over frames t >= 1 of the translation (px), rotation (deg) and scale (%) differences."""
    p, r = cm.decompose_homographies(predicted, size), cm.decompose_homographies(reference, size)
    translation = np.hypot(p.tx - r.tx, p.ty - r.ty)[1:]
    rotation = np.abs((p.rotation_deg - r.rotation_deg + 180.0) % 360.0 - 180.0)[1:]
    scale = 100.0 * np.abs(np.log(p.scale / r.scale))[1:]
    return float(translation.mean()), float(rotation.mean()), float(scale.mean())


def analyse_background(
    video: np.ndarray, truth: BackgroundTruth, config: SuiteConfig | None = None, *, name: str = "generated video"
) -> VideoBackground:
    """The suite's measures for `video` (uint8 RGB [T, H, W, 3], same frames and size as `truth`).

    `name` identifies the video in errors. A video of fewer than two frames, or a ground truth without any valid
    background point, is refused: there would be nothing to measure.
    """
    config = config or SuiteConfig()
    truth.check_video(video, name)
    if truth.frames < 2:
        raise ValueError(f"{name}: the background suite needs at least 2 frames, got {truth.frames}")
    queries_kept = truth.background_queries
    ref_tracks = truth.tracks[:, queries_kept]
    ref_visible = truth.visible[:, queries_kept]
    valid = ref_visible & ref_visible[0]
    valid[0] = False
    if not valid.any():
        raise ValueError(f"{truth.source}: no background point is visible in frame 0 and a later frame")

    gray = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in video])
    masks = _dilate(truth.fgmask, config.mask_dilation_px)
    positions, tracker_visible = track_points(gray, ref_tracks[0].astype(np.float32), masks, config.tracker)
    positions = positions.astype(np.float64)

    # The tracker's position counts even where it calls the point invisible (its prediction from the scene's
    # motion): losing a point must not make a generated background look better.
    track_epe = float(np.linalg.norm(positions - ref_tracks, axis=-1)[valid].mean())

    size = truth.size
    camera = estimate_camera(positions, make_track_mask(positions, tracker_visible, masks), size, config.camera)
    corner = float(corner_error(camera.homographies, truth.homographies, size)[1:].mean())
    translation, rotation, scale = _camera_differences(camera.homographies, truth.homographies, size)
    reference_label = cm.label_camera_motion(truth.homographies, size)

    epipolar = epipolar_errors(positions, ref_tracks, ref_visible, truth.homographies, valid, config.epipolar)

    origin = ref_tracks[0][None]
    motion_predicted = float(np.median(np.linalg.norm(positions - origin, axis=-1)[valid]))
    motion_reference = float(np.median(np.linalg.norm(ref_tracks - origin, axis=-1)[valid]))
    dynamics = motion_predicted / motion_reference if motion_reference >= config.min_motion_px else None

    return VideoBackground(
        track_epe=track_epe,
        camera_corner=corner,
        camera_translation=translation,
        camera_rotation=rotation,
        camera_scale=scale,
        label_agreement=float(camera.label == reference_label),
        predicted_label=camera.label,
        reference_label=reference_label,
        epipolar=float(epipolar.errors.mean()),
        epipolar_frames=epipolar.frames,
        epipolar_fallback_frames=epipolar.fallback_frames,
        motion_predicted=motion_predicted,
        motion_reference=motion_reference,
        dynamics=dynamics,
        valid_points=int(valid.sum()),
    )


def first_frame_offset(
    pred: np.ndarray, ref: np.ndarray, truth: BackgroundTruth, config: SuiteConfig | None = None, *, name: str = ""
) -> float:
    """Mean displacement (px) of the truth's frame-0 background points from the reference's first frame `ref` to the
    generated first frame `pred` (uint8 RGB [H, W, 3], the truth's size), tracked by the suite's tracker with the
    truth's dilated frame-0 person mask. 0 when the generated first frame's background sits where the reference's
    does; the suite's other metrics cannot see such an offset (they measure motion from each video's own frame 0)."""
    config = config or SuiteConfig()
    for frame, what in ((pred, name or "generated first frame"), (ref, "reference first frame")):
        if frame.shape[:2][::-1] != truth.size or frame.ndim != 3:
            raise ValueError(f"{what} is {frame.shape[1]}x{frame.shape[0]}, the truth {truth.size[0]}x{truth.size[1]}")
    queries = truth.tracks[0][truth.background_queries].astype(np.float32)
    if not len(queries):
        raise ValueError(f"{truth.source}: no background point visible in frame 0")
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (ref, pred)])
    mask = _dilate(truth.fgmask[:1], config.mask_dilation_px)
    positions, _ = track_points(gray, queries, np.concatenate([mask, mask]), config.tracker)
    return float(np.linalg.norm(positions[1].astype(np.float64) - queries, axis=-1).mean())
