"""Accuracy of the CPU curation stages against the synthetic ground truth: the bars of issue 3.

    python -m jobs.bench.curation_accuracy [--clips 48] [--seed 0] [--out reports/curation_accuracy.md]

Renders a synthetic corpus (48 frames, 512x512; clip i uses camera recipe i mod 12, so 12 consecutive clips cover
every camera label), runs foreground -> tracks -> camera with default settings, taking the sidecar's ground-truth
keypoints as the pose, and scores every bar; then joins several clips into one video (H.264) and checks the shot
cuts. Tracking time is the process's CPU time with OpenCV single-threaded (seconds of one core).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from curation.config import ClipConfig
from curation.motion.camera_estimation import corner_error, estimate_camera
from curation.motion.track_mask import background_track_mask, make_track_mask
from curation.motion.tracks import track_clip
from curation.person.foreground_mask import foreground_masks
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import read_ground_truth, write_corpus
from curation.video.clipping import detection_frame
from curation.video.encode import write_mp4
from curation.video.reader import iter_frames, read_video
from curation.video.shots import detect_cuts

CONFIG = SynthConfig(width=512, height=512, frames=48, fps=24.0, grid_step=16)
SHOT_CLIPS = 24  # clips joined into the shot-detection video: every camera recipe twice, pan + shake included


def evaluate_clip(video: Path, gt: dict[str, np.ndarray], truth_label: str) -> dict:
    """Per-clip counts and errors; sums over clips give the corpus figures."""
    rgb = read_video(video)
    size = (rgb.shape[2], rgb.shape[1])
    start = time.process_time()
    mask, dilated = foreground_masks(rgb, gt["keypoints"])
    masked = time.process_time()
    tracks = track_clip(rgb, mask)
    tracked = time.process_time()
    camera = estimate_camera(tracks.positions, make_track_mask(tracks.positions, tracks.visible, dilated), size)
    track_mask = background_track_mask(tracks, dilated, camera)
    done = time.process_time()
    gt_visible = gt["gt_visible"][:, tracks.grid_index]
    both = tracks.visible & gt_visible
    errors = np.linalg.norm(tracks.positions - gt["gt_tracks"][:, tracks.grid_index], axis=-1)[both]
    return {
        "truth": truth_label,
        "label": camera.label,
        "errors": errors,
        "agree": int((tracks.visible == gt_visible).sum()),
        "pairs": int(gt_visible.size),
        "kept": int(track_mask.sum()),
        "kept_background": int((track_mask & gt_visible).sum()),
        "background": int(gt_visible.sum()),
        "corner": corner_error(camera.homographies, gt["homography"], size),
        "foreground_s": masked - start,
        "track_s": tracked - masked,
        "camera_s": done - tracked,
    }


def shots_check(videos: list[Path], out_dir: Path) -> dict:
    """Join clips end to end into one H.264 video, decode it and detect cuts: every cut within 1 frame, none false."""
    joined = out_dir / "joined.mp4"
    lengths = [len(read_video(v)) for v in videos]
    write_mp4(joined, (frame for v in videos for frame in iter_frames(v)), CONFIG.fps, threads=1)
    truth = np.cumsum(lengths)[:-1].tolist()
    # The frames the pipeline's clipper gives the detector (`clipping.detection_frame`), back in RGB order.
    small = (detection_frame(f, ClipConfig().detect_short_side)[..., ::-1] for f in iter_frames(joined))
    found = detect_cuts(small, fps=CONFIG.fps)
    matched = [min((abs(f - t) for f in found), default=10**9) <= 1 for t in truth]
    false = [f for f in found if min(abs(f - t) for t in truth) > 1]
    return {"truth": truth, "found": found, "all_found": all(matched), "false": false}


def _bar(value: float, bar: float, higher: bool) -> str:
    return "pass" if (value >= bar if higher else value <= bar) else "FAIL"


def report(rows: list[dict], shots: dict, command: str, render_s: float) -> str:
    errors = np.concatenate([r["errors"] for r in rows])
    corner = np.concatenate([r["corner"] for r in rows])
    agree = sum(r["agree"] for r in rows) / sum(r["pairs"] for r in rows)
    precision = sum(r["kept_background"] for r in rows) / sum(r["kept"] for r in rows)
    recall = sum(r["kept_background"] for r in rows) / sum(r["background"] for r in rows)
    accuracy = float(np.mean([r["label"] == r["truth"] for r in rows]))
    shots_ok = shots["all_found"] and not shots["false"]
    bars = [
        ("tracks: median end-point error (px)", np.median(errors), 0.5, False),
        ("tracks: 95th percentile end-point error (px)", np.percentile(errors, 95), 2.0, False),
        ("tracks: visibility agreement", agree, 0.95, True),
        ("track_mask: kept pairs truly background (precision)", precision, 0.99, True),
        ("track_mask: visible background pairs kept (recall)", recall, 0.85, True),
        ("camera: label accuracy", accuracy, 0.95, True),
        ("camera: median corner reprojection error (px)", np.median(corner), 1.0, False),
    ]
    track_s = np.array([r["track_s"] for r in rows])
    lines = [
        "# Curation accuracy on the synthetic corpus (issue 3)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}; OpenCV single-threaded.",
        "",
        f"Corpus: {len(rows)} clips, {CONFIG.frames} frames at {CONFIG.width}x{CONFIG.height}, "
        f"{len({r['truth'] for r in rows})} camera labels; default settings; pose = the sidecar's ground-truth "
        f"keypoints. Rendering took {render_s:.0f} s (wall).",
        "",
        "| bar | measured | required | result |",
        "| --- | --- | --- | --- |",
    ]
    for name, value, bar, higher in bars:
        lines.append(f"| {name} | {value:.4f} | {'>=' if higher else '<='} {bar} | {_bar(value, bar, higher)} |")
    lines.append(
        f"| shots: every cut within 1 frame, no false cut ({len(shots['truth'])} cuts, {SHOT_CLIPS} "
        f"clips joined into one H.264 video) | found {shots['found']}, false {shots['false']} | "
        f"truth {shots['truth']} | {'pass' if shots_ok else 'FAIL'} |"
    )
    lines += [
        "",
        f"End-point errors over {len(errors)} (point, frame) pairs visible in both; visibility over "
        f"{sum(r['pairs'] for r in rows)} pairs of the queries the tracker starts (grid points outside frame 0's "
        "foreground mask).",
        "",
        f"CPU time per clip (one core): tracking median {np.median(track_s):.2f} s (max {track_s.max():.2f} s); "
        f"foreground masks median {np.median([r['foreground_s'] for r in rows]):.2f} s; camera + track mask "
        f"median {np.median([r['camera_s'] for r in rows]):.3f} s.",
        "",
        "## Per camera label",
        "",
        "| label | clips | label correct | visibility agreement | precision | recall | median EPE px "
        "| median corner px |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label in sorted({r["truth"] for r in rows}):
        group = [r for r in rows if r["truth"] == label]
        errs = np.concatenate([r["errors"] for r in group])
        lines.append(
            f"| {label} | {len(group)} | {sum(r['label'] == label for r in group)} | "
            f"{sum(r['agree'] for r in group) / sum(r['pairs'] for r in group):.4f} | "
            f"{sum(r['kept_background'] for r in group) / max(sum(r['kept'] for r in group), 1):.4f} | "
            f"{sum(r['kept_background'] for r in group) / max(sum(r['background'] for r in group), 1):.4f} | "
            f"{np.median(errs):.3f} | {np.median(np.concatenate([r['corner'] for r in group])):.3f} |"
        )
    wrong = [(i, r["truth"], r["label"]) for i, r in enumerate(rows) if r["label"] != r["truth"]]
    lines += ["", "Mislabelled clips: " + (", ".join(f"clip {i}: {t} -> {e}" for i, t, e in wrong) or "none") + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes rendering the corpus")
    parser.add_argument("--out", type=Path, default=Path("reports/curation_accuracy.md"))
    args = parser.parse_args()
    if args.clips < 12:
        parser.error("--clips must be at least 12 so that every camera label is covered")
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        written = write_corpus(args.clips, out / "corpus", seed=args.seed, config=CONFIG, workers=args.workers)
        render_s = time.perf_counter() - start
        rows = []
        for clip in written:
            rows.append(
                evaluate_clip(
                    clip.video,
                    read_ground_truth(clip.video.with_name(f"{clip.name}.gt.npz")),
                    clip.metadata["camera_label"],
                )
            )
            print(
                f"{clip.name}: {rows[-1]['truth']} -> {rows[-1]['label']}, track {rows[-1]['track_s']:.2f} s",
                flush=True,
            )
        shots = shots_check([c.video for c in written[:SHOT_CLIPS]], out)
    command = f"python -m jobs.bench.curation_accuracy --clips {args.clips} --seed {args.seed}"
    text = report(rows, shots, command, render_s)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
