"""Inputs for outside models: a benchmark's test clips in the formats other code reads (`backdrop bench export`).

- `animateanyone`: what the Moore-AnimateAnyone scripts read. Per clip `ref_images/KEY.png` (the clip's first
  frame, the reference image) and `pose_videos/KEY_kps.mp4` (the clip's pose rendered as OpenPose-style skeletons by
  `curation.person.pose_render`, at the clip's size and frame rate); per distinct clip size and length an inference
  config `animation-WxH-L.yaml` in the layout of their `configs/prompts/animation.yaml` (the weights paths are
  theirs, to edit; `test_cases` maps each reference image to its pose video); `commands.sh` with the
  `python -m scripts.pose2vid --config ... -W W -H H -L L` line of each config. Their script names its outputs
  `{ref}_{pose}_{H}x{W}_{cfg}_{time}.mp4` and stacks reference, pose and generated video side by side: `bench run
  --videos DIR --panels 3` matches such files by key and scores the last panel.
- `tracks`: the above plus `tracks/KEY.npz` for track-conditioned models: `tracks` [T, N, 2] (clip pixels),
  `track_mask` [T, N] (visible and outside the dilated person mask: "tracks multiplied by the inverse foreground
  mask"), `visible`, and `masked_tracks` (NaN where the mask is off).
- `plain`: `KEY/frames.npy` (uint8 [T, H, W, 3], the decoded clip), `pose.npy`, `tracks.npy`, `visible.npy`,
  `track_mask.npy`, `camera.npy`, `fgmask.npy` (bool), `reference.png`, `video.mp4` (the clip itself).

Every format writes `export.json`: the benchmark, its protocol, and each clip's key, size, rate and frame count.
A model's returned folder is scored by key (`KEY.mp4` or `KEY.npy`, or a file named `KEY_...`).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmark.definition import Benchmark, load_benchmark
from benchmark.video import read_video
from curation.person.pose_render import render_clip
from curation.video.encode import write_mp4

__all__ = ["EXPORT_FORMATS", "export_benchmark"]

EXPORT_FORMATS = ("animateanyone", "tracks", "plain")


def _write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def _animateanyone(bench: Benchmark, out: Path, *, with_tracks: bool) -> None:
    import yaml

    for folder in ("ref_images", "pose_videos", *(("tracks",) if with_tracks else ())):
        (out / folder).mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[int, int, int], dict[str, list[str]]] = defaultdict(dict)
    for key in bench.keys:
        clip, truth = bench.clip(key), bench.truth(key)
        frames = read_video(bench.clip_video(key))
        reference, pose = out / "ref_images" / f"{key}.png", out / "pose_videos" / f"{key}_kps.mp4"
        _write_png(reference, frames[0])
        write_mp4(pose, render_clip(truth.pose, (clip["width"], clip["height"])), clip["fps"])
        groups[(clip["width"], clip["height"], clip["frames"])][f"./{reference.relative_to(out)}"] = [
            f"./{pose.relative_to(out)}"
        ]
        if with_tracks:
            masked = np.where(truth.track_mask[..., None], truth.tracks, np.nan).astype(np.float32)
            np.savez(
                out / "tracks" / f"{key}.npz",
                tracks=truth.tracks,
                track_mask=truth.track_mask,
                visible=truth.visible,
                masked_tracks=masked,
            )
    commands = ["#!/bin/sh", "# Run from a Moore-AnimateAnyone checkout, with this folder's paths made reachable."]
    for (width, height, length), cases in sorted(groups.items()):
        name = f"animation-{width}x{height}-{length}.yaml"
        config = {
            "pretrained_base_model_path": "./pretrained_weights/stable-diffusion-v1-5/",
            "pretrained_vae_path": "./pretrained_weights/sd-vae-ft-mse",
            "image_encoder_path": "./pretrained_weights/image_encoder",
            "denoising_unet_path": "./pretrained_weights/denoising_unet.pth",
            "reference_unet_path": "./pretrained_weights/reference_unet.pth",
            "pose_guider_path": "./pretrained_weights/pose_guider.pth",
            "motion_module_path": "./pretrained_weights/motion_module.pth",
            "inference_config": "./configs/inference/inference_v2.yaml",
            "weight_dtype": "fp16",
            "test_cases": cases,
        }
        (out / name).write_text(yaml.safe_dump(config, sort_keys=False))
        commands.append(f"python -m scripts.pose2vid --config {shlex.quote(name)} -W {width} -H {height} -L {length}")
    (out / "commands.sh").write_text("\n".join(commands) + "\n")


def _plain(bench: Benchmark, out: Path) -> None:
    for key in bench.keys:
        folder = out / key
        folder.mkdir(parents=True, exist_ok=True)
        truth = bench.truth(key)
        frames = read_video(bench.clip_video(key))
        np.save(folder / "frames.npy", frames, allow_pickle=False)
        for name in ("pose", "tracks", "visible", "track_mask", "camera", "fgmask"):
            np.save(folder / f"{name}.npy", getattr(truth, name), allow_pickle=False)
        _write_png(folder / "reference.png", frames[0])
        shutil.copyfile(bench.clip_video(key), folder / "video.mp4")


def export_benchmark(bench: Benchmark | str | os.PathLike, out: str | os.PathLike, fmt: str) -> Path:
    """Write the benchmark's inputs in format `fmt` (one of `EXPORT_FORMATS`) into `out`; returns `out`."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    bench = bench if isinstance(bench, Benchmark) else load_benchmark(bench)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "plain":
        _plain(bench, out)
    else:
        _animateanyone(bench, out, with_tracks=fmt == "tracks")
    clips: dict[str, Any] = {
        key: {k: bench.clip(key)[k] for k in ("width", "height", "fps", "frames")} for key in bench.keys
    }
    info = {
        "benchmark": bench.name,
        "benchmark_dir": str(bench.path.resolve()),
        "protocol": bench.protocol.name,
        "format": fmt,
        "clips": clips,
        "return": "one video per key: KEY.mp4 or KEY.npy (uint8 [T, H, W, 3]), or a file named KEY_...; "
        "score with `backdrop bench run BENCH --videos DIR --name MODEL --out RESULTS`",
    }
    (out / "export.json").write_text(json.dumps(info, indent=2) + "\n")
    return out
