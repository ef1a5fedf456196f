"""Writing synthetic clips to disk: `NAME.mp4`, `NAME.gt.npz` and `NAME.json` per clip, resumable and parallel."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curation.synthetic.clip import ClipPlan, SynthConfig, SyntheticClip, plan_clip, track_visibility
from curation.video.encode import write_mp4

GT_MEMBERS = ("keypoints", "fgmask", "homography", "gt_tracks", "gt_visible")


def clip_name(seed: int, index: int) -> str:
    return f"synth-s{seed}-{index:05d}"


@dataclass(frozen=True)
class WrittenClip:
    name: str
    video: Path
    metadata: dict
    skipped: bool  # already complete on disk from an earlier run


def _atomic_write_bytes(path: Path, write: Callable[[object], None]) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_clip(plan: ClipPlan, config: SynthConfig, out_dir: Path) -> WrittenClip:
    """Render one clip and write its video, ground truth and metadata; the JSON, written last, marks it complete."""
    name = clip_name(plan.seed, plan.index)
    video, gt_path, meta_path = out_dir / f"{name}.mp4", out_dir / f"{name}.gt.npz", out_dir / f"{name}.json"
    if meta_path.exists() and video.exists() and gt_path.exists():
        existing = json.loads(meta_path.read_text())
        if existing.get("config") == SyntheticClip.config_dict(config):
            return WrittenClip(name, video, existing, skipped=True)
    clip = SyntheticClip(plan, config)
    tracks = clip.track_positions()
    packed_masks, visible = [], []

    def frames():
        for t, frame in enumerate(clip.frames()):
            packed_masks.append(np.packbits(frame.person_mask, axis=-1))
            visible.append(track_visibility(tracks[t], frame.plane_occluded))
            yield frame.rgb

    write_mp4(video, frames(), config.fps)
    arrays = {
        "keypoints": clip.keypoints(),
        "fgmask": np.stack(packed_masks),
        "homography": clip.homographies.astype(np.float32),
        "gt_tracks": tracks,
        "gt_visible": np.stack(visible),
    }
    _atomic_write_bytes(gt_path, lambda handle: np.savez_compressed(handle, **arrays))
    metadata = {"name": name, **clip.metadata(), "num_tracks": int(tracks.shape[1])}
    _atomic_write_bytes(meta_path, lambda handle: handle.write(json.dumps(metadata, indent=2).encode()))
    return WrittenClip(name, video, metadata, skipped=False)


def _write_indexed(args: tuple[int, int, SynthConfig, str]) -> WrittenClip:
    seed, index, config, out_dir = args
    return write_clip(plan_clip(seed, index, config.camera), config, Path(out_dir))


def write_corpus(
    n: int,
    out_dir: str | os.PathLike,
    seed: int = 0,
    config: SynthConfig | None = None,
    workers: int = 1,
    on_clip: Callable[[WrittenClip], None] | None = None,
) -> list[WrittenClip]:
    """Write clips 0..n-1 of the corpus of `seed` into `out_dir`; clips already complete are kept as they are."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    config = config or SynthConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, i, config, str(out)) for i in range(n)]
    results: list[WrittenClip] = []
    if workers == 1:
        for job in jobs:
            results.append(_write_indexed(job))
            if on_clip:
                on_clip(results[-1])
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for written in pool.map(_write_indexed, jobs):
                results.append(written)
                if on_clip:
                    on_clip(written)
    return results


def read_ground_truth(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load a `NAME.gt.npz`, checking that every member is there with consistent shapes."""
    with np.load(path, allow_pickle=False) as data:
        missing = [m for m in GT_MEMBERS if m not in data.files]
        if missing:
            raise ValueError(f"{path}: not a backdrop ground-truth file, missing {missing}")
        gt = {m: data[m] for m in GT_MEMBERS}
    frames = gt["keypoints"].shape[0]
    if gt["keypoints"].ndim != 4 or gt["keypoints"].shape[2:] != (133, 3):
        raise ValueError(f"{path}: keypoints must be [T, P, 133, 3], got {gt['keypoints'].shape}")
    for member in GT_MEMBERS[1:]:
        if gt[member].shape[0] != frames:
            raise ValueError(f"{path}: {member} has {gt[member].shape[0]} frames, keypoints have {frames}")
    if gt["gt_tracks"].shape[:2] != gt["gt_visible"].shape:
        raise ValueError(f"{path}: gt_tracks {gt['gt_tracks'].shape} and gt_visible {gt['gt_visible'].shape} differ")
    return gt


def unpack_mask(packed: np.ndarray, width: int) -> np.ndarray:
    """Undo `numpy.packbits` along width: [..., ceil(W/8)] uint8 -> [..., W] bool."""
    return np.unpackbits(packed, axis=-1, count=width).astype(bool)
