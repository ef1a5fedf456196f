"""Camera motion from homographies: decomposition, the label vocabulary, and the clip magnitude.

Every homography here takes frame-0 pixels of the background to frame t (identity at t=0). It is decomposed about
the image centre into the similarity that best explains it: translation of the centre (pixels), rotation (degrees,
positive = clockwise on screen, since image y points down) and isotropic scale.

Label vocabulary (a clip label joins one or more components with "+", in the order below):

| component | meaning, in terms of the background's image motion |
| --- | --- |
| `static` | none of the others (alone) |
| `pan_left` / `pan_right` | camera turns left / right: background moves right / left (centre x shift > 0 / < 0) |
| `tilt_up` / `tilt_down` | camera turns up / down: background moves down / up (centre y shift > 0 / < 0) |
| `zoom_in` / `zoom_out` | the background grows / shrinks (scale > 1 / < 1) |
| `roll` | the background rotates about the optical axis, either way |
| `shake` | hand-held jitter: frame-to-frame accelerations far above what smooth motion has |
| `dynamic` | (estimators only) no single homography explains the background |

The thresholds are fractions of the image diagonal (or a log-scale / an angle), so labels do not depend on size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAN_LEFT, PAN_RIGHT = "pan_left", "pan_right"
TILT_UP, TILT_DOWN = "tilt_up", "tilt_down"
ZOOM_IN, ZOOM_OUT = "zoom_in", "zoom_out"
ROLL, SHAKE, STATIC, DYNAMIC = "roll", "shake", "static", "dynamic"

#: Components in the order they appear in a compound label.
CAMERA_COMPONENTS: tuple[str, ...] = (
    PAN_LEFT, PAN_RIGHT, TILT_UP, TILT_DOWN, ZOOM_IN, ZOOM_OUT, ROLL, SHAKE, STATIC, DYNAMIC,
)  # fmt: skip

#: Net motion over the clip below which a component is absent.
PAN_TILT_THRESHOLD = 0.025  # of the image diagonal
ZOOM_THRESHOLD = 0.03  # |log scale|
ROLL_THRESHOLD_DEG = 1.5
#: RMS of the centre's frame-to-frame acceleration above which the camera shakes.
SHAKE_THRESHOLD = 0.0015  # of the image diagonal, per frame squared


@dataclass(frozen=True)
class CameraParams:
    """Per-frame similarity parameters of homographies, each an array of shape [T]."""

    tx: np.ndarray
    ty: np.ndarray
    rotation_deg: np.ndarray
    scale: np.ndarray


def compose_label(components: list[str] | tuple[str, ...]) -> str:
    """Join components into a canonical compound label (`static` when empty)."""
    unknown = [c for c in components if c not in CAMERA_COMPONENTS]
    if unknown:
        raise ValueError(f"unknown camera label component(s) {unknown}; known: {CAMERA_COMPONENTS}")
    ordered = sorted(set(components), key=CAMERA_COMPONENTS.index)
    if len(ordered) > 1 and (STATIC in ordered or DYNAMIC in ordered):
        raise ValueError(f"'static' and 'dynamic' cannot be combined with other components: {ordered}")
    return "+".join(ordered) if ordered else STATIC


def split_label(label: str) -> tuple[str, ...]:
    """The components of a (possibly compound) label; raises on an unknown component."""
    parts = tuple(label.split("+"))
    compose_label(list(parts))
    return parts


def decompose_homographies(homographies: np.ndarray, size: tuple[int, int]) -> CameraParams:
    """Decompose [T, 3, 3] homographies about the centre of a (width, height) image."""
    h = np.asarray(homographies, dtype=np.float64)
    if h.ndim != 3 or h.shape[1:] != (3, 3):
        raise ValueError(f"homographies must have shape [T, 3, 3], got {h.shape}")
    width, height = size
    centre = np.array([[1.0, 0.0, width / 2.0], [0.0, 1.0, height / 2.0], [0.0, 0.0, 1.0]])
    centre_inv = np.linalg.inv(centre)
    hc = centre_inv @ h @ centre
    hc = hc / hc[:, 2:3, 2:3]
    a = hc[:, :2, :2]
    scale = np.sqrt(np.abs(np.linalg.det(a)))
    rotation = np.degrees(np.arctan2(a[:, 1, 0] - a[:, 0, 1], a[:, 0, 0] + a[:, 1, 1]))
    return CameraParams(tx=hc[:, 0, 2], ty=hc[:, 1, 2], rotation_deg=rotation, scale=scale)


def _net(values: np.ndarray) -> float:
    """Net change over a clip, robust to jitter: mean of the last few frames against the first."""
    tail = max(1, min(4, len(values) // 6))
    return float(np.mean(values[-tail:]) - values[0])


def shake_level(params: CameraParams, size: tuple[int, int]) -> float:
    """RMS frame-to-frame acceleration of the image centre, as a fraction of the image diagonal."""
    if len(params.tx) < 3:
        return 0.0
    diagonal = float(np.hypot(*size))
    accel = np.stack([np.diff(params.tx, 2), np.diff(params.ty, 2)], axis=1)
    return float(np.sqrt(np.mean(np.sum(accel**2, axis=1))) / diagonal)


def label_camera_motion(homographies: np.ndarray, size: tuple[int, int]) -> str:
    """The compound camera label of a clip's frame-0-to-t homographies (see the module's vocabulary)."""
    params = decompose_homographies(homographies, size)
    diagonal = float(np.hypot(*size))
    components: list[str] = []
    tx, ty = _net(params.tx) / diagonal, _net(params.ty) / diagonal
    if abs(tx) > PAN_TILT_THRESHOLD:
        components.append(PAN_LEFT if tx > 0 else PAN_RIGHT)
    if abs(ty) > PAN_TILT_THRESHOLD:
        components.append(TILT_UP if ty > 0 else TILT_DOWN)
    log_scale = _net(np.log(params.scale))
    if abs(log_scale) > ZOOM_THRESHOLD:
        components.append(ZOOM_IN if log_scale > 0 else ZOOM_OUT)
    if abs(_net(params.rotation_deg)) > ROLL_THRESHOLD_DEG:
        components.append(ROLL)
    if shake_level(params, size) > SHAKE_THRESHOLD:
        components.append(SHAKE)
    return compose_label(components)


def camera_magnitude(homographies: np.ndarray, size: tuple[int, int]) -> float:
    """Mean speed of the image corners under the camera motion, in pixels per frame (0 for a static camera)."""
    h = np.asarray(homographies, dtype=np.float64)
    if len(h) < 2:
        return 0.0
    width, height = size
    corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], dtype=np.float64)
    mapped = np.einsum("tij,cj->tci", h, corners)
    mapped = mapped[..., :2] / mapped[..., 2:3]
    speeds = np.linalg.norm(np.diff(mapped, axis=0), axis=-1)
    return float(speeds.mean())
