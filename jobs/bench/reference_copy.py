"""Does the tiny models' reference attention copy the reference? The probe behind the blur of every row of
reports/background_models*.md that does not read the warped reference (issue 12).

    python -m jobs.bench.reference_copy [--out out/bench/background_models] [--report reference_copy]
        [--rows animate-anyone] [--train-steps 300] [--eval-every 50] [--clips 8]

Reads the runs and shards that `python -m jobs.bench.background_models --out OUT ...` made (run that first; the
default is its default's, as `make bench` runs them in that order). For each row: the x0 error of its trained
denoiser (image path: single frames, no temporal layers) at fixed timesteps and noise, with its reference kept and
dropped (dropped as in training: masked out of the attention, zero image token), on two targets of the same test
clips: another frame of the clip (what the model is trained for) and the reference frame itself ("identity": copying
the reference gives an error of exactly 0). Then the first row's image stage trained anew from its seed on each
target, with the run's own image-stage settings (optimiser, learning rate, warm-up, schedule, clipping, batch size;
`--train-steps` steps), one process per target, the same errors every `--eval-every` steps. A denoiser that reads
its reference has a kept error well below its dropped error, and on the identity target one that falls towards 0.
AnimateAnywhere's image path is the baseline's (its BML sits on the temporal layers; same seeds, same image stage),
so its row would repeat the baseline's figures. Writes reports/REPORT.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curation.shards.indexed import indexed_dataset
from jobs.bench.report import write_report
from models.config import load_model_config
from models.data.conditioning import clip_example, collate_examples
from models.generation import load_trained_model
from models.registry import build_model
from models.training.config import TrainConfig, train_config_from_dict
from models.training.loop import WorkerContext, optimiser_step, start_stage

TIMESTEPS = (999, 500)
TARGETS = ("other frame", "identity")


def target_batch(batch: dict[str, Any], target: str) -> dict[str, Any]:
    """The batch itself ("other frame": its frames are other frames of the clips than the references) or its
    references as the frames to generate ("identity")."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; known: {TARGETS}")
    if target == "other frame":
        return batch
    return {**batch, "frames": batch["reference"][:, None].clone()}


@torch.no_grad()
def reference_errors(model: Any, batch: dict[str, Any], timesteps: tuple[int, ...] = TIMESTEPS) -> dict[str, float]:
    """The mean squared error of `model`'s x0 prediction (prediction type `sample`) for the batch's frames at each
    timestep, with the reference kept (`kept t`) and dropped (`dropped t`), and that of copying the reference
    latents (`copy`). Noise is seeded by the timestep, so errors are comparable across models and steps."""
    if model.config.scheduler.prediction_type != "sample":
        raise ValueError(
            f"{model.config.name}: x0 errors need prediction_type 'sample', not "
            f"{model.config.scheduler.prediction_type!r} (train with --prediction sample)"
        )
    if model.config.kind not in ("animate_anyone", "animate_anywhere"):
        raise ValueError(f"{model.config.name}: kind {model.config.kind!r} reads track inputs; this probe does not")
    was_training = model.training
    model.eval()
    latents = model.encode_frames(batch["frames"], None)
    reference_latents = model.codec.encode(batch["reference"], None)
    image_embeds = model.image_encoder(batch["reference"])
    pose_features = model.pose_features(batch["pose_images"])
    errors = {"copy": float(((reference_latents[:, :, None] - latents) ** 2).mean())}
    samples = latents.shape[0]
    try:
        for t in timesteps:
            noise = torch.randn(latents.shape, generator=torch.Generator().manual_seed(t))
            steps = torch.full((samples,), t, dtype=torch.long)
            noisy = model.noise_scheduler.add_noise(latents, noise, steps)
            for name, keep in (("kept", True), ("dropped", False)):
                mask = torch.full((samples,), keep)
                embeds = image_embeds * mask[:, None, None]
                model.write_reference(reference_latents, embeds, mask)
                prediction = model.denoise(noisy, steps, embeds, pose_features, temporal=False)
                errors[f"{name} {t}"] = float(((prediction - latents) ** 2).mean())
    finally:
        model.bank.clear()
        model.train(was_training)
    return errors


def split_clips(shards: Path, split: str) -> Any:
    """The split's clips (curation.shards.indexed); a clear error when it has none."""
    clips = indexed_dataset(shards, split)
    if len(clips) == 0:
        raise ValueError(f"{shards}: no {split} clips")
    return clips


def probe_batch(clips: Any, config: Any, count: int, rng: np.random.Generator, start: int = 0) -> dict[str, Any]:
    """`count` single-frame examples of clips `start`, `start + 1`, ... (cycling), as training draws them (a random
    target frame and reference frame of each clip, from `rng`)."""
    picked = [(start + i) % len(clips) for i in range(count)]
    return collate_examples([clip_example(clips[i], resolution=config.resolution, frames=1, rng=rng) for i in picked])


def probe_training(run_config: dict[str, Any], steps: int) -> TrainConfig:
    """The run's `train:` section with its image stage alone, `steps` long (its warm-up cut to fit)."""
    train = train_config_from_dict(run_config["train"])
    image = next((s for s in train.stages if s.name == "image"), None)
    if image is None:
        raise ValueError("the run has no image stage to train anew")
    stage = dataclasses.replace(image, steps=steps, warmup_steps=min(image.warmup_steps, steps - 1))
    return dataclasses.replace(train, stages=(stage,))


def train_from_scratch(
    run_config: dict[str, Any], shards: str, target: str, steps: int, every: int, clips: int
) -> list[tuple[int, float, dict[str, float]]]:
    """The run's image stage trained anew from its model seed for `steps` steps on `target`; its
    `reference_errors` on the test batch every `every` steps: [(step, seconds, errors)]."""
    torch.set_num_threads(1)
    config = load_model_config(run_config["model"])
    train = probe_training(run_config, steps)
    stage = train.stages[0]
    model = build_model(config, None)
    state = start_stage(model, train, 0, WorkerContext(), None)
    test_clips = split_clips(Path(shards), "test")
    test = target_batch(probe_batch(test_clips, config, clips, np.random.default_rng(0)), target)
    train_clips, rng = split_clips(Path(shards), "train"), np.random.default_rng(train.seed)

    def batches():
        for start in itertools.count(0, stage.batch_size):
            yield target_batch(probe_batch(train_clips, config, stage.batch_size, rng, start), target)

    stream, generator = batches(), torch.Generator().manual_seed(train.seed)
    history, began = [], time.perf_counter()
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            history.append((step, time.perf_counter() - began, reference_errors(model, test)))
            print(f"{target}: step {step}/{steps} ({history[-1][1]:.0f} s): {_error_cells(history[-1][2])}", flush=True)
        if step < steps:
            optimiser_step(state, stream, generator, WorkerContext(), "no")
    return history


def _error_cells(errors: dict[str, float]) -> str:
    cells = [f"{errors[f'kept {t}']:.3f} / {errors[f'dropped {t}']:.3f}" for t in TIMESTEPS]
    return " | ".join(cells) + f" | {errors['copy']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench/background_models"))
    parser.add_argument("--report", default="reference_copy", help="the report's name in reports/")
    parser.add_argument("--rows", default="animate-anyone")
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--clips", type=int, default=8)
    args = parser.parse_args()
    rows = [r for r in args.rows.split(",") if r]
    shards = args.out / "curated" / "shards"
    for row in rows:
        if not (args.out / "runs" / row).is_dir():
            raise SystemExit(f"{args.out / 'runs' / row}: no such run; train it with jobs.bench.background_models")
    if args.train_steps < 1 or args.eval_every < 1:
        raise SystemExit("--train-steps and --eval-every must be at least 1")
    torch.set_num_threads(1)

    header = " | ".join(f"t={t}: kept / dropped" for t in TIMESTEPS)
    lines = [
        f"- runs and shards: `{args.out}` (made by `python -m jobs.bench.background_models --out {args.out} ...`;"
        " its report gives their budget, seeds and data)",
        f"- probe clips: the first {args.clips} test clips, one target frame and one reference frame each (seed 0);"
        f" noise seeded by the timestep; errors are the mean squared error of the x0 prediction in the codec's latent",
        "",
        "## Trained rows (their last checkpoint)",
        "",
        f"| row | target | {header} | copy the reference |",
        "| --- | --- | " + " | ".join("---" for _ in TIMESTEPS) + " | --- |",
    ]
    run_config, test_clips = None, split_clips(shards, "test")
    for row in rows:
        model, config = load_trained_model(args.out / "runs" / row)
        run_config = run_config or config
        batch = probe_batch(test_clips, model.config, args.clips, np.random.default_rng(0))
        for target in TARGETS:
            errors = reference_errors(model, target_batch(batch, target))
            lines.append(f"| {row} | {target} | {_error_cells(errors)} |")
            print(row, target, errors, flush=True)

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(TARGETS), mp_context=context) as pool:
        settings = (args.train_steps, args.eval_every, args.clips)
        futures = {t: pool.submit(train_from_scratch, run_config, str(shards), t, *settings) for t in TARGETS}
        histories = {t: f.result() for t, f in futures.items()}
    image = probe_training(run_config, args.train_steps).stages[0]
    lines += [
        "",
        f"## {rows[0]}'s image stage trained anew on each target",
        "",
        f"Model seed {run_config['model']['seed']}, train seed {run_config['train']['seed']}; {args.train_steps} steps"
        f" of batch {image.batch_size} at lr {image.learning_rate} ({image.lr_schedule}, warm-up {image.warmup_steps},"
        f" gradient norm clipped at {image.max_grad_norm}), AdamW; batches drawn from the training"
        " clips; one process and one torch thread per target, side by side.",
        "",
        f"| target | step | {header} | copy the reference | seconds |",
        "| --- | --- | " + " | ".join("---" for _ in TIMESTEPS) + " | --- | --- |",
    ]
    for target, history in histories.items():
        for step, seconds, errors in history:
            lines.append(f"| {target} | {step} | {_error_cells(errors)} | {seconds:.0f} |")
    path = write_report(args.report, "jobs.bench.reference_copy", "\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
