"""Training-free reference rows, made from the ground-truth clips themselves, to calibrate the leaderboard.

- `ground-truth`: the clip itself (its mp4, copied). What the suite gives here is the floor set by the tracker's
  noise and the codec, not zero.
- `frozen-background`: frame 0's scene (background plane, nearer layer, moving object) in every frame, with the true
  persons of each frame over it: what a static-background animator yields.
- `shifted-background`: the true scene under a known extra camera motion, a translation growing linearly from 0 at
  frame 0 to `shift_px` pixels at the last frame (direction `SHIFT_DIRECTION`), with the true persons over it; the
  camera error it should score is known exactly (`injected_translation_error`).

For synthetic clips (`NAME.json` from `curation.synthetic`) the two altered rows are rendered exactly from the clip's
plan with the renderer's own composition (`SyntheticClip.render_frame` with `scene_frame` / `extra_camera`): no
inpainting, no warping artefacts, and the persons are the true ones, pixel for pixel. Clips from other sources have no
plan to re-render and are refused (frozen and shifted backgrounds would need inpainting behind the person).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.metrics import BACKGROUND_METRICS
from benchmark.metrics.background.truth import ground_truth_path
from benchmark.metrics.base import ResultRow
from benchmark.protocol import Protocol
from curation.synthetic.clip import GENERATOR_VERSION, SynthConfig, SyntheticClip, plan_clip
from curation.synthetic.corpus import read_ground_truth
from curation.video.encode import write_mp4

__all__ = [
    "REFERENCE_ROWS",
    "SHIFT_DIRECTION",
    "ReferenceClip",
    "frozen_background_frames",
    "injected_offsets",
    "injected_translation_error",
    "load_reference_clip",
    "score_reference_rows",
    "shifted_background_frames",
    "write_reference_rows",
]

REFERENCE_ROWS = ("ground-truth", "frozen-background", "shifted-background")
#: Unit direction of the injected image translation (both axes move, so both are checked).
SHIFT_DIRECTION = (0.6, 0.8)


def injected_offsets(frames: int, shift_px: float) -> np.ndarray:
    """[T, 2] pixels: the shifted row's extra translation, 0 at frame 0 growing linearly to `shift_px` at T−1."""
    if frames < 2:
        raise ValueError(f"a shifted clip needs at least 2 frames, got {frames}")
    ramp = np.arange(frames, dtype=np.float64) / (frames - 1)
    return shift_px * ramp[:, None] * np.asarray(SHIFT_DIRECTION, np.float64)[None]


def injected_translation_error(frames: int, shift_px: float) -> float:
    """What `bg-camera-translation` (and `bg-camera`) should read on the shifted row of a perfect tracker: the
    mean over frames t >= 1 of |offset_t| = shift_px · T / (2 (T − 1))."""
    return float(np.linalg.norm(injected_offsets(frames, shift_px), axis=1)[1:].mean())


@dataclass(frozen=True)
class ReferenceClip:
    name: str
    video: Path  # the ground truth's own mp4
    clip: SyntheticClip  # re-created from its plan, checked against the stored ground truth


def load_reference_clip(video: str | os.PathLike) -> ReferenceClip:
    """Re-create the synthetic clip behind `NAME.mp4` from `NAME.json`, checking it against `NAME.gt.npz`."""
    video = Path(video)
    meta_path = video.with_name(f"{video.stem}.json")
    if not meta_path.is_file():
        raise FileNotFoundError(f"{video}: no {meta_path.name} beside it; reference rows are made from synthetic clips")
    meta = json.loads(meta_path.read_text())
    if meta.get("generator") != GENERATOR_VERSION:
        raise ValueError(
            f"{meta_path}: made by {meta.get('generator')!r}, not {GENERATOR_VERSION!r}; reference rows "
            "are rendered from synthetic clip plans only"
        )
    config = SynthConfig(**meta["config"])
    clip = SyntheticClip(plan_clip(int(meta["seed"]), int(meta["index"]), config.camera), config)
    truth = read_ground_truth(ground_truth_path(video))
    # The plan must still render what was written (same generator code): compare the exact camera it implies.
    if truth["homography"].shape != clip.homographies.shape or not np.allclose(
        truth["homography"], clip.homographies, rtol=1e-5, atol=1e-4
    ):
        raise ValueError(
            f"{video}: its plan no longer renders the stored ground truth (camera differs); regenerate "
            "the corpus with this version of backdrop"
        )
    return ReferenceClip(video.stem, video, clip)


def frozen_background_frames(clip: SyntheticClip) -> Iterator[np.ndarray]:
    """Frame 0's scene in every frame, the true persons of each frame over it."""
    for t in range(clip.config.frames):
        yield clip.render_frame(t, scene_frame=0).rgb


def shifted_background_frames(clip: SyntheticClip, shift_px: float) -> Iterator[np.ndarray]:
    """The true scene translated by `injected_offsets`, the true persons over it."""
    for t, (dx, dy) in enumerate(injected_offsets(clip.config.frames, shift_px)):
        extra = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])
        yield clip.render_frame(t, extra_camera=extra).rgb


def write_reference_rows(
    ref_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    shift_px: float = 32.0,
    on_clip: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write OUT/ROW/NAME.mp4 for every clip in `ref_dir` and each row of `REFERENCE_ROWS`; returns row -> folder.

    Also writes OUT/reference_rows.json (what was injected). The altered rows are encoded like the corpus (H.264,
    the same quality), so codec noise is the same in every row.
    """
    ref_dir, out_dir = Path(ref_dir), Path(out_dir)
    videos = sorted(ref_dir.glob("*.mp4"))
    if not videos:
        raise ValueError(f"no .mp4 files in {ref_dir}")
    if not np.isfinite(shift_px) or shift_px <= 0:
        raise ValueError(f"shift_px must be a positive number, got {shift_px}")
    folders = {row: out_dir / row for row in REFERENCE_ROWS}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    frames_seen = set()
    for video in videos:
        ref = load_reference_clip(video)
        frames_seen.add(ref.clip.config.frames)
        shutil.copyfile(video, folders["ground-truth"] / video.name)
        fps = ref.clip.config.fps
        write_mp4(folders["frozen-background"] / video.name, frozen_background_frames(ref.clip), fps)
        write_mp4(folders["shifted-background"] / video.name, shifted_background_frames(ref.clip, shift_px), fps)
        if on_clip:
            on_clip(ref.name)
    info = {
        "reference": str(ref_dir),
        "rows": list(REFERENCE_ROWS),
        "clips": len(videos),
        "shift_px": shift_px,
        "shift_direction": list(SHIFT_DIRECTION),
        "shift": "offset_t = shift_px * t / (T - 1) * direction, added after the true camera",
        "injected_translation_error": {str(t): injected_translation_error(t, shift_px) for t in sorted(frames_seen)},
    }
    (out_dir / "reference_rows.json").write_text(json.dumps(info, indent=2) + "\n")
    return folders


def score_reference_rows(
    folders: dict[str, Path],
    ref_dir: str | os.PathLike,
    protocol: Protocol,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, list[ResultRow]]:
    """The background suite's result rows for each reference row's folder against `ref_dir` (the row's name is the
    rows' model, and their `reference_row`)."""
    from benchmark.scoring import ScoreOptions, score  # the harness imports every metric; keep this module light

    options = ScoreOptions(protocol=protocol, metrics=BACKGROUND_METRICS)
    results = {}
    for row, folder in folders.items():
        log(f"scoring {row}")
        rows = score(folder, ref_dir, dataclasses.replace(options, model=row), log=log)
        results[row] = [r.with_extras(reference_row=row) for r in rows]
    return results
