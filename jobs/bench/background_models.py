"""The comparison the two papers claim, measured (issue 12): the tiny AnimateAnyone baseline, the disentangled
pose-and-tracks model, backdrop's warped-reference variant of it, the AnimateAnywhere-style model and the ablations,
trained on the same follow-camera synthetic shards with the same budget and seeds, scored by `backdrop bench` on the
same test split. Writes reports/background_models.md and reports/background_models.png.

    python -m jobs.bench.background_models [--sources 24] [--image-steps N] [--video-steps N]
        [--video-lr LR] [--video-lr-schedule cosine] [--rows animate-anyone,disentangled,...]
        [--inference-steps 10] [--codec dct] [--prediction sample] [--out out/bench/background_models]

Everything goes through the commands a user runs: `backdrop synth --camera follow`'s corpus, the curate job
(sequential engine, 24-frame clips at 128 px), `backdrop bench define` (protocol bd16-px128-free: the suite's
separation at 128 px is measured and printed), then per row `backdrop train --engine local` and `backdrop bench run
--model RUN --engine local`. Every row's run configuration is its model configuration with the baseline's `train:`
section (tiny.yaml's, steps from the command line), so budget, batches, learning rates and seeds are equal. What is
finished is kept: run again, the script redoes only what is missing and rewrites the report.

The bars (on the moving-camera test clips): the disentangled model's `bg-camera` below the baseline's with 95%
bootstrap intervals that do not overlap; the AnimateAnywhere-style model's `bg-dynamics` (generated / true background
motion) closer to 1 than the baseline's, with the intervals apart too (closer on the means alone is not a measured
difference).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from jobs.bench.background_models_report import (
    PROTOCOL,
    moving_keys,
    plot,
    report_body,
    summarise,
    write_frame_strip,
)
from jobs.bench.background_rows import DEFAULT_ROWS, ROWS, Row, check_rows
from jobs.bench.report import REPORTS, write_report
from jobs.bench.train_tiny import CURATION, run_cli, scalars, training_wall_clock
from models.training.config import LR_SCHEDULES


def prepare_benchmark(out: Path, sources: int, seed: int) -> tuple[Path, Path]:
    """The follow-camera corpus, curated (20% of sources in the test split), and its benchmark: (shards, bench)."""
    from curation.config import config_from_dict
    from curation.pipeline.job import JobOptions, run_job, sequential_engine
    from curation.synthetic.clip import SynthConfig
    from curation.synthetic.corpus import write_corpus
    from curation.video.source_lists import resolve_sources

    curated = out / "curated"
    if not (curated / "manifest.parquet").is_file():
        write_corpus(sources, out / "synthetic", seed=seed, config=SynthConfig(camera="follow"), workers=2)
        options = JobOptions(test_fraction=0.2, shard_mb=16.0)
        run_job(resolve_sources([out / "synthetic"]), curated, sequential_engine(config_from_dict(CURATION)), options)
    bench = out / "bench"
    if not (bench / "benchmark.json").is_file():
        run_cli("bench", "define", "--shards", str(curated), "--protocol", PROTOCOL, "--out", str(bench))
    return curated, bench


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


# What every row's tiny model section gets on top of its configuration file, by `--codec` and `--prediction`. The
# tiny files' x8 pixel-unshuffle gives 192 latent channels to a UNet whose first block is 64 wide, so two thirds of a
# latent are out of the denoiser's reach and v-prediction sampling ends on noise it cannot predict; an earlier run of
# this comparison (tiny files as they are, 200 + 100 steps) gave every trained row SSIM 0.05 and noise for frames.
# "dct" keeps each 8x8 patch's 16 lowest DCT frequencies of the luminance and of both chroma channels (48 channels,
# 27.5 dB round trip on the synthetic frames); "sample" has the denoiser predict the clean latents (x0), plain MSE
# (min-SNR weights would give the high-noise steps, where the conditioning decides the image, almost no weight).
CODECS = {
    "dct": {"codec": {"kind": "dct", "factor": 8, "luma": 16, "chroma": 16, "scale": 1.0},
            "unet": {"config": {"in_channels": 48, "out_channels": 48}}},
    "pixel_unshuffle": {},
}  # fmt: skip
PREDICTIONS = {
    "sample": {"scheduler": {"prediction_type": "sample", "snr_gamma": None}},
    "v_prediction": {},
}


def row_config(
    row: Row,
    image_steps: int | None,
    video_steps: int | None,
    codec: str = "dct",
    prediction: str = "sample",
    video_lr: float | None = None,
    video_lr_schedule: str | None = None,
) -> dict[str, Any]:
    """The row's run configuration: its model section (with the comparison's codec and prediction, the row's
    switches and name) and tiny.yaml's training with the given steps (and, where given, the video stage's learning
    rate and schedule)."""
    from models.training.config import read_run_file, stage_with_steps

    train = read_run_file("tiny")["train"]
    budget = {"image": image_steps, "video": video_steps}
    video = {"learning_rate": video_lr, "lr_schedule": video_lr_schedule}
    stage_extra = {"image": {}, "video": {k: v for k, v in video.items() if v is not None}}
    train["stages"] = [
        {**stage_with_steps(s, budget[s["name"]] or s["steps"]), **stage_extra[s["name"]]} for s in train["stages"]
    ]
    model = read_run_file(row.config)["model"]
    for extra in (CODECS[codec], PREDICTIONS[prediction], row.overrides):
        model = _merge(model, extra)
    model["name"] = row.name
    return {"model": model, "train": train}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/background_models"))
    parser.add_argument("--sources", type=int, default=24, help="follow-camera synthetic sources")
    parser.add_argument("--seed", type=int, default=0)
    # The defaults are reports/background_models.md's budget (about 10 min a row here), so that `make bench`
    # regenerates that report; tiny.yaml's own (2000 + 400 steps) would take hours for nine rows.
    parser.add_argument("--image-steps", type=int, default=300, help="default: 300 (tiny.yaml: 2000)")
    parser.add_argument("--video-steps", type=int, default=100, help="default: 100 (tiny.yaml: 400)")
    parser.add_argument("--video-lr", type=float, default=None, help="default: tiny.yaml's (1e-4)")
    parser.add_argument("--video-lr-schedule", choices=LR_SCHEDULES, default=None, help="default: tiny.yaml's")
    parser.add_argument("--inference-steps", type=int, default=10)
    parser.add_argument("--codec", choices=list(CODECS), default="dct", help="every row's codec (see CODECS)")
    parser.add_argument("--prediction", choices=list(PREDICTIONS), default="sample", help="every row's target")
    parser.add_argument("--report", default="background_models", help="reports/NAME.md, NAME.png, NAME_frames.png")
    opt_in = ", ".join(r.name for r in ROWS if not r.default)
    parser.add_argument(
        "--rows", default=",".join(DEFAULT_ROWS), help=f"comma-separated row names (default: all but {opt_in})"
    )
    args = parser.parse_args()
    check_rows(ROWS)
    known = {r.name: r for r in ROWS}
    unknown = [n for n in args.rows.split(",") if n not in known]
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {list(known)}")
    rows = [known[n] for n in args.rows.split(",")]

    from benchmark.definition import load_benchmark
    from benchmark.leaderboard import read_result_rows, write_leaderboard

    shards, bench = prepare_benchmark(args.out, args.sources, args.seed)
    runs: dict[str, dict[str, Any]] = {}
    for row in rows:
        config_path = args.out / "configs" / f"{row.name}.yaml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config = row_config(
            row, args.image_steps, args.video_steps, args.codec, args.prediction, args.video_lr, args.video_lr_schedule
        )
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        run = args.out / "runs" / row.name
        print(f"== {row.name}: training ({config_path})", flush=True)
        run_cli("train", "--config", str(config_path), "--shards", str(shards), "--out", str(run), "--engine", "local")
        results = args.out / "results" / row.name
        if not any(results.glob("*.json")):
            print(f"== {row.name}: generating and scoring the benchmark", flush=True)
            run_cli("bench", "run", str(bench), "--model", str(run), "--name", row.name, "--out", str(results),
                    "--engine", "local", "--steps", str(args.inference_steps))  # fmt: skip
        curves = scalars(run)
        validation = curves.get("loss/validation_video") or curves.get("loss/validation_image") or []
        runs[row.name] = {"train_seconds": training_wall_clock(run)}
        if validation:
            runs[row.name]["validation"] = validation[-1][1]

    result_rows = read_result_rows([bench / "rows", *(args.out / "results" / r.name for r in rows)])
    loaded = load_benchmark(bench)
    summary = summarise(result_rows, moving_keys(loaded))
    order = ["ground-truth", "reference-warped", "frozen-background", *(r.name for r in rows)]
    plot(summary, [n for n in order if n in summary],
         REPORTS / f"{args.report}.png")  # fmt: skip
    write_frame_strip(result_rows, REPORTS / f"{args.report}_frames.jpg")
    write_leaderboard([bench, *(args.out / "results" / r.name for r in rows)], args.out / "leaderboard.html")
    body = report_body(args, loaded, rows, runs, summary)
    print(write_report(args.report, "jobs.bench.background_models", body).read_text())


if __name__ == "__main__":
    main()
