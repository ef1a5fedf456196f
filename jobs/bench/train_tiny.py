"""The tiny AnimateAnyone trained on the synthetic corpus: loss curves, sample frames beside their ground truth,
PSNR/SSIM of its test-split videos against the ground truth beside the untrained model and the training-free row
"the reference frame repeated"; seconds per step and peak memory. Writes reports/train_tiny.md and two PNGs.

    python -m jobs.bench.train_tiny [--sources 24] [--image-steps N] [--video-steps N] [--inference-steps 10]

Everything goes through the commands a user runs: `backdrop synth`'s corpus, the curate job (sequential engine),
`backdrop train --config tiny --engine local` (one process: its peak memory is the training's own), and
`backdrop generate --engine local` for the trained run and for its untrained initialisation (`--checkpoint 0`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from jobs.bench.report import REPORTS, write_report

CURATION = {"clips": {"frames": 24, "short_side": 128}, "tracks": {"grid_step": 8}, "quality": {"pyiqa": []}}


def run_cli(*args: str) -> float:
    """`python -m jobs.cli ARGS` in a process of its own (its peak memory its own); the seconds it took."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jobs.cli", *args], check=True)
    return time.perf_counter() - began


def prepare_shards(out: Path, sources: int, seed: int) -> Path:
    from curation.config import config_from_dict
    from curation.pipeline.job import JobOptions, run_job, sequential_engine
    from curation.synthetic.corpus import write_corpus
    from curation.video.source_lists import resolve_sources

    curated = out / "curated"
    if not (curated / "manifest.parquet").is_file():
        write_corpus(sources, out / "synthetic", seed=seed, workers=2)
        options = JobOptions(test_fraction=0.2, shard_mb=16.0)
        run_job(resolve_sources([out / "synthetic"]), curated, sequential_engine(config_from_dict(CURATION)), options)
    return curated


def scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "logs"), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def training_wall_clock(run: Path) -> float:
    """Seconds from the first to the last training step's event (a resumed run's pause included)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "logs"), size_guidance={"scalars": 0})
    events.Reload()
    times = [e.wall_time for tag in ("loss/train_image", "loss/train_video") for e in events.Scalars(tag)]
    return max(times) - min(times)


def plot_losses(curves: dict[str, list[tuple[int, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=120)
    for tag, colour in (("loss/train_image", "tab:blue"), ("loss/train_video", "tab:orange")):
        if tag in curves:
            steps, values = map(np.asarray, zip(*curves[tag], strict=True))
            window = min(25, len(values))
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            axis.plot(steps, values, color=colour, alpha=0.2, linewidth=0.8)
            axis.plot(steps[window - 1 :], smooth, color=colour, label=f"{tag[5:]} (mean of {window})")
    for tag, colour in (("loss/validation_image", "navy"), ("loss/validation_video", "darkred")):
        if tag in curves:
            steps, values = zip(*curves[tag], strict=True)
            axis.plot(steps, values, "o-", color=colour, label=tag[5:])
    axis.set_xlabel("optimiser step")
    axis.set_ylabel("loss (v-prediction, min-SNR weighted)")
    axis.set_title("tiny AnimateAnyone on the synthetic corpus")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def test_clips(shards: Path, resolution: tuple[int, int]) -> dict[str, dict[str, Any]]:
    from curation.shards.indexed import indexed_dataset
    from models.data.conditioning import clip_conditions

    clips = indexed_dataset(shards, "test")
    found = {}
    for i in range(len(clips)):
        conditions = clip_conditions(clips[i], resolution=resolution)
        found[conditions["key"]] = conditions
    return found


def sample_sheet(rows: dict[str, dict[str, np.ndarray]], path: Path, frames: int = 4) -> None:
    """For a few clips: ground truth, reference repeated, untrained, trained (rows), `frames` frames each."""
    import cv2

    blocks = []
    for key, videos in rows.items():
        picked = np.linspace(0, len(videos["ground truth"]) - 1, frames).round().astype(int)
        block = []
        for label, video in videos.items():
            strip = np.concatenate(list(video[picked]), axis=1).copy()
            cv2.putText(strip, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
            block.append(strip)
        blocks.append(np.concatenate(block, axis=0))
        blocks.append(np.full((6, blocks[-1].shape[1], 3), 255, np.uint8))
        cv2.putText(blocks[-2], key, (4, blocks[-2].shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 0), 1)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(blocks[:-1], axis=0), cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/train_tiny"))
    parser.add_argument("--sources", type=int, default=24, help="synthetic sources (two 24-frame clips each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-steps", type=int, default=None, help="default: tiny.yaml's")
    parser.add_argument("--video-steps", type=int, default=None, help="default: tiny.yaml's")
    parser.add_argument("--inference-steps", type=int, default=10)
    args = parser.parse_args()

    from benchmark.metrics.pixel import psnr, ssim
    from curation.video.reader import read_video
    from models.training.config import read_run_file, stage_with_steps

    shards = prepare_shards(args.out, args.sources, args.seed)
    config = read_run_file("tiny")
    budget = {"image": args.image_steps, "video": args.video_steps}
    config["train"]["stages"] = [
        stage_with_steps(s, budget[s["name"]] or s["steps"]) for s in config["train"]["stages"]
    ]
    config_path = args.out / "tiny-bench.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    run = args.out / "run"
    # A finished run is kept (run again, the script only redoes what is missing and rewrites the report).
    run_cli("train", "--config", str(config_path), "--shards", str(shards), "--out", str(run), "--engine", "local")
    train_seconds = training_wall_clock(run)
    generated = {}
    for name, step in (("trained", []), ("untrained", ["--checkpoint", "0"])):
        folder = args.out / f"generated-{name}"
        run_cli(
            "generate",
            "--run",
            str(run),
            "--shards",
            str(shards),
            "--out",
            str(folder),
            "--engine",
            "local",
            "--steps",
            str(args.inference_steps),
            *step,
        )
        generated[name] = folder

    resolution = tuple(config["model"]["resolution"])
    clips = test_clips(shards, resolution)
    keys = sorted(clips)
    truth = [clips[k]["frames"] for k in keys]
    rows = {
        "reference frame repeated": [np.repeat(clips[k]["reference"][None], len(clips[k]["frames"]), 0) for k in keys],
        "untrained": [read_video(generated["untrained"] / f"{k}.mp4") for k in keys],
        "trained": [read_video(generated["trained"] / f"{k}.mp4") for k in keys],
    }
    scores = {name: (psnr(videos, truth, keys=keys), ssim(videos, truth, keys=keys)) for name, videos in rows.items()}
    sample_sheet(
        {k: {"ground truth": clips[k]["frames"], **{n: v[i] for n, v in rows.items()}} for i, k in enumerate(keys[:3])},
        REPORTS / "train_tiny_samples.png",
    )

    curves = scalars(run)
    plot_losses(curves, REPORTS / "train_tiny_loss.png")
    body = report_body(config, curves, scores, len(keys), train_seconds, args)
    print(write_report("train_tiny", "jobs.bench.train_tiny", body).read_text())


def _last_moves(curve: list[tuple[int, float]]) -> str:
    """How the image-stage validation loss moved over its last two validations (what the run says of more steps)."""
    if len(curve) < 3:
        return ""
    (s0, v0), (s1, v1) = curve[-3], curve[-1]
    return f": its image-stage validation loss moved from {v0:.4f} to {v1:.4f} over its last {s1 - s0} steps"


def _rate(stage: dict) -> str:
    """The stage's learning rate as the report states it: peak, schedule, warm-up."""
    warmup = stage.get("warmup_steps", 0)
    schedule = stage.get("lr_schedule", "constant") + (f" after {warmup} warm-up steps" if warmup else "")
    return f"learning rate {stage['learning_rate']:g}, {schedule}"


def report_body(config: dict, curves: dict, scores: dict, clips: int, train_seconds: float, args: Any) -> str:
    stages = config["train"]["stages"]
    lines = ["## Budget, seeds, data", ""]
    lines.append(
        f"- data: {args.sources} synthetic sources (seed {args.seed}), curated at 128 px into 24-frame clips; "
        f"test split 20% of sources ({clips} test clips)"
    )
    lines.append(
        "- training: `backdrop train --config tiny` (random initialisation, seed "
        f"{config['model']['seed']}; train seed {config['train']['seed']}), "
        + ", ".join(f"{s['name']} stage {s['steps']} steps of batch {s['batch_size']} ({_rate(s)})" for s in stages)
        + f"; {train_seconds / 60:.1f} min wall-clock in one process, one torch thread"
    )
    lines.append(
        f"- generation: {args.inference_steps} DDIM steps, guidance 3.5, generation seed 0, first frame as reference"
    )
    lines += [
        "",
        "## Validation loss (fixed test clips, fixed noise)",
        "",
        "| stage | at its start | at its end | end / start | bar |",
        "| --- | --- | --- | --- | --- |",
    ]
    for stage in ("image", "video"):
        values = curves.get(f"loss/validation_{stage}")
        if values:
            start, end = values[0][1], values[-1][1]
            bar = ("met" if end <= 0.5 * start else "NOT met") + " (<= 0.5)" if stage == "image" else "reported"
            first, last = f"{start:.4f} (step {values[0][0]})", f"{end:.4f} (step {values[-1][0]})"
            lines.append(f"| {stage} | {first} | {last} | {end / start:.3f} | {bar} |")
    image = curves.get("loss/validation_image", [])
    if len(image) >= 3 and image[-1][1] > 0.5 * image[0][1]:
        (s0, v0), (s1, v1) = image[-3], image[-1]
        lines.append("")
        lines.append(
            f"- the image-stage bar is not met at this budget; over its last {s1 - s0} steps the validation loss "
            f"moved from {v0:.4f} to {v1:.4f}, so this run does not show that more steps of the same schedule reach "
            f"{0.5 * image[0][1]:.4f}: a longer run, a decaying learning rate or a larger model are the next to measure"
        )
    lines += ["", "![loss curves](train_tiny_loss.png)", "", "## Test-split videos against the ground truth", ""]
    lines += ["| row | PSNR (dB) | SSIM |", "| --- | --- | --- |"]
    for name, (p, s) in scores.items():
        lines.append(f"| {name} | {p:.2f} | {s:.4f} |")
    trained, untrained, repeated = scores["trained"][1], scores["untrained"][1], scores["reference frame repeated"][1]
    lines.append("")
    verdict = "met" if trained > untrained else "NOT met"
    lines.append(f"- bar: trained SSIM above the untrained model's: {verdict} ({trained:.4f} vs {untrained:.4f})")
    if trained < repeated:
        lines.append(
            f'- the trained model stays below "reference frame repeated" in SSIM ({trained:.4f} vs {repeated:.4f}) '
            f"at this budget, and this run does not show which budget would change that{_last_moves(image)}; the "
            "generated frames keep high-frequency noise (samples below), which points at the low-noise end of "
            "denoising, where the anchor's min-SNR weighting puts the least weight (a likely cause, not measured here)"
        )
    else:
        lines.append(f'- the trained model is above "reference frame repeated" ({trained:.4f} vs {repeated:.4f})')
    lines += [
        "",
        "![samples](train_tiny_samples.png)",
        "",
        "Rows per clip: ground truth, reference repeated, untrained, trained.",
        "",
    ]
    lines += ["## Cost", "", "| stage | median s/step | peak RSS (MiB) |", "| --- | --- | --- |"]
    seconds = curves.get("time/seconds_per_step", [])
    rss = dict(curves.get("memory/peak_rss_mb", []))
    boundary = stages[0]["steps"]
    for name, selected in (
        ("image", [v for s, v in seconds if s <= boundary]),
        ("video", [v for s, v in seconds if s > boundary]),
    ):
        if selected:
            peak = max((v for s, v in rss.items() if (s <= boundary) == (name == "image")), default=float("nan"))
            lines.append(f"| {name} | {np.median(selected):.2f} | {peak:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
