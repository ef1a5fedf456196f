"""Follow-camera recipes: the camera moves with the filmed person's root motion, as an operator following a walker
or a dancer does, so the pose sequence carries information about the background's motion.

In the default corpus the persons are placed independently of the camera (the recipe is the clip index mod 12); a
corpus made with `SynthConfig(camera="follow")` uses these recipes instead, one person per clip:

| recipe | person | the camera |
| --- | --- | --- |
| `follow_pan` | walks sideways (facing left or right) | pans with the walker's travel |
| `follow_tilt` | jumps | tilts with the root's height |
| `follow_drift` | dances, drifting across the floor in any direction | pans and tilts with the root |
| `follow_shake` | walks sideways | pans with the walker, plus the hand-held operator's bob, in step with the gait |
| `follow_zoom` | walks towards the camera (face seen) or away | zooms out or in, keeping the walker's size |

The person's world displacement W(t) (pixels) is followed with a gain g: the background moves by -g W(t) and the
person's image position by (1 - g) W(t), so the person stays near the centre. The operator's bob moves both. The
result is exact: homographies and keypoints are the ground truth, as for every synthetic clip.
"""

from __future__ import annotations

import numpy as np

from curation.synthetic.camera_paths import similarity_homographies

FOLLOW_RECIPES: tuple[str, ...] = ("follow_pan", "follow_tilt", "follow_drift", "follow_shake", "follow_zoom")
#: The motion of the followed person, per recipe.
FOLLOW_MOTIONS: dict[str, str] = {
    "follow_pan": "walk",
    "follow_tilt": "jump",
    "follow_drift": "dance",
    "follow_shake": "walk",
    "follow_zoom": "walk",
}


def follow_heading(recipe: str, rng: np.random.Generator) -> float | None:
    """The walker's fixed yaw (radians) for `follow_zoom` (towards the camera: about 0; away: about pi); None keeps
    the motion's own heading."""
    check_recipe(recipe)
    if recipe != "follow_zoom":
        return None
    towards = bool(rng.random() < 0.5)
    return float((0.0 if towards else np.pi) + np.radians(rng.uniform(-15.0, 15.0)))


def check_recipe(recipe: str) -> None:
    if recipe not in FOLLOW_RECIPES:
        raise ValueError(f"unknown follow-camera recipe {recipe!r}; known: {FOLLOW_RECIPES}")


def follow_camera_path(
    recipe: str,
    rng: np.random.Generator,
    root: np.ndarray,
    yaw: np.ndarray,
    scale: float,
    fps: float,
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """(homographies [T, 3, 3] frame 0 -> t of the background, person shift [T, 2] in pixels (x right, y down) to
    add to the person's image position) for a person with root offsets `root` [T, 3] (body units, y up) and `yaw`
    [T] drawn at `scale` pixels per body unit."""
    check_recipe(recipe)
    width = size[0]
    frames = len(root)
    times = np.arange(frames) / fps
    gain = rng.uniform(0.8, 0.95)
    travel = np.zeros((frames, 2))  # world displacement, pixels
    bob = np.zeros((frames, 2))  # operator's own motion, moves everything in the image
    log_scale = np.zeros(frames)
    rise = (root[:, 1] - root[0, 1]) * scale
    if recipe in ("follow_pan", "follow_shake"):
        direction = 1.0 if np.sin(yaw[0]) >= 0 else -1.0  # yaw > 0 turns the body's front towards screen right
        speed = rng.uniform(0.25, 0.45) * scale  # pixels per second (0.25-0.45 body heights)
        travel[:, 0] = direction * min(speed * times[-1], 0.55 * width / gain) * times / max(times[-1], 1e-9)
        if recipe == "follow_shake":
            # A hand-held camera carried by a walking operator bobs in step with the walker's own gait.
            bob[:, 1] = -rng.uniform(2.5, 4.0) * rise
    elif recipe == "follow_tilt":
        travel[:, 1] = -rise
    elif recipe == "follow_drift":
        # Drifting across the floor in any direction: sideways on screen, and up or down it (away, towards).
        angle = rng.uniform(0, 2 * np.pi)
        drift = rng.uniform(0.15, 0.3) * scale * times
        travel[:, 0] = (root[:, 0] - root[0, 0]) * scale + np.cos(angle) * drift
        travel[:, 1] = -rise + np.sin(angle) * drift
    else:  # follow_zoom: approaching (facing the camera) makes the operator zoom out to keep the size
        towards = np.cos(yaw[0]) > 0
        rate = rng.uniform(0.1, 0.18)  # |log scale| per second
        log_scale = (-1.0 if towards else 1.0) * rate * times
    background = -gain * travel + bob
    shift = (1.0 - gain) * travel + bob
    homographies = similarity_homographies(
        background[:, 0], background[:, 1], np.zeros(frames), np.exp(log_scale), size
    )
    return homographies, shift
