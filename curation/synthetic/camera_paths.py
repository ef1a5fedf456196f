"""Camera trajectories of synthetic clips, as homographies taking frame-0 background pixels to frame t.

A path is built from the label components it is asked for (see `curation.motion.camera_labels` for the vocabulary):
smooth, constant-rate pans, tilts, zooms and rolls about the image centre, plus hand-held jitter for `shake`.
Magnitudes are drawn well clear of the labelling thresholds, so each clip's label is unambiguous.
"""

from __future__ import annotations

import numpy as np

from curation.motion import camera_labels as cm

#: The label recipes a corpus cycles through, so that any 12 consecutive clips cover every component.
CAMERA_RECIPES: tuple[tuple[str, ...], ...] = (
    (cm.STATIC,), (cm.PAN_LEFT,), (cm.PAN_RIGHT,), (cm.TILT_UP,), (cm.TILT_DOWN,), (cm.ZOOM_IN,), (cm.ZOOM_OUT,),
    (cm.ROLL,), (cm.SHAKE,), ("pan", "tilt"), ("pan", "zoom"), ("pan", cm.SHAKE),
)  # fmt: skip


def resolve_recipe(recipe: tuple[str, ...], rng: np.random.Generator) -> tuple[str, ...]:
    """Turn generic components ("pan", "tilt", "zoom") into directed ones, at random."""
    choices = {
        "pan": (cm.PAN_LEFT, cm.PAN_RIGHT),
        "tilt": (cm.TILT_UP, cm.TILT_DOWN),
        "zoom": (cm.ZOOM_IN, cm.ZOOM_OUT),
    }
    return tuple(str(rng.choice(choices[c])) if c in choices else c for c in recipe)


def similarity_homographies(
    tx: np.ndarray, ty: np.ndarray, rotation_deg: np.ndarray, scale: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """[T, 3, 3] homographies: rotate and scale about the image centre, then translate the centre by (tx, ty)."""
    width, height = size
    cx, cy = width / 2.0, height / 2.0
    theta = np.radians(rotation_deg)
    c, s = scale * np.cos(theta), scale * np.sin(theta)
    h = np.zeros((len(tx), 3, 3))
    h[:, 0, 0], h[:, 0, 1], h[:, 1, 0], h[:, 1, 1] = c, -s, s, c
    h[:, 0, 2] = cx + tx - (c * cx - s * cy)
    h[:, 1, 2] = cy + ty - (s * cx + c * cy)
    h[:, 2, 2] = 1.0
    return h


def _jitter(rng: np.random.Generator, frames: int, sigma: float) -> np.ndarray:
    noise = np.convolve(rng.standard_normal(frames + 4), [0.25, 0.5, 0.25], mode="same")[2:-2]
    noise *= sigma / max(float(noise.std()), 1e-9)
    return noise * np.clip(np.arange(frames) / 3.0, 0, 1)  # starts at zero: frame 0 is the identity


def sample_camera_path(
    rng: np.random.Generator, components: tuple[str, ...], frames: int, fps: float, size: tuple[int, int]
) -> np.ndarray:
    """Homographies [T, 3, 3] for the given directed components."""
    width, height = size
    diagonal = float(np.hypot(width, height))
    duration = max(frames - 1, 1) / fps
    ramp = np.arange(frames) / max(frames - 1, 1)
    tx, ty, rot, log_scale = (np.zeros(frames) for _ in range(4))
    for component in components:
        if component in (cm.PAN_LEFT, cm.PAN_RIGHT):
            total = max(rng.uniform(0.08, 0.2) * width * duration, 0.07 * diagonal)
            tx += (1 if component == cm.PAN_LEFT else -1) * min(total, 0.6 * width) * ramp
        elif component in (cm.TILT_UP, cm.TILT_DOWN):
            total = max(rng.uniform(0.06, 0.15) * height * duration, 0.07 * diagonal)
            ty += (1 if component == cm.TILT_UP else -1) * min(total, 0.5 * height) * ramp
        elif component in (cm.ZOOM_IN, cm.ZOOM_OUT):
            log_scale += (1 if component == cm.ZOOM_IN else -1) * rng.uniform(0.12, 0.28) * ramp
        elif component == cm.ROLL:
            rot += rng.choice([-1.0, 1.0]) * rng.uniform(5.0, 12.0) * ramp
        elif component == cm.SHAKE:
            sigma = rng.uniform(0.004, 0.007) * diagonal
            tx += _jitter(rng, frames, sigma)
            ty += _jitter(rng, frames, sigma)
            rot += _jitter(rng, frames, rng.uniform(0.15, 0.35))
        elif component != cm.STATIC:
            raise ValueError(f"unknown camera component {component!r}")
    return similarity_homographies(tx, ty, rot, np.exp(log_scale), size)
