"""Seconds per training step and peak GPU memory of the full-size `sd15` AnimateAnyone (512 px; the video stage on
24-frame clips), randomly initialised (the architecture of SD 1.5, CLIP ViT-L/14 and mm_sd_v15_v2, no weights), on
one GPU with bf16 autocast and gradient checkpointing, as `backdrop train` runs it there. Writes
reports/sd15_train_speed.md. Needs a CUDA GPU; the batch is random (the model's cost does not depend on the pixels).

    python -m jobs.bench.sd15_train_speed [--steps 5] [--warmup 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from jobs.bench.report import write_report


def measure(model, stage: str, batch: dict, steps: int, warmup: int) -> dict[str, float]:
    device = model.device
    model.set_stage(stage)
    params = model.trainable_parameters(stage)
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    times = []
    for i in range(warmup + steps):
        torch.cuda.synchronize(device)
        began = time.perf_counter()
        generator = torch.Generator(device=device).manual_seed(i)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(batch, stage=stage, generator=generator)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize(device)
        if i >= warmup:
            times.append(time.perf_counter() - began)
    del optimizer
    return {
        "median_s": sorted(times)[len(times) // 2],
        "min_s": min(times),
        "max_s": max(times),
        "peak_allocated_gib": torch.cuda.max_memory_allocated(device) / 2**30,
        "peak_reserved_gib": torch.cuda.max_memory_reserved(device) / 2**30,
        "trainable_m": sum(p.numel() for p in params) / 1e6,
        "loss": float(loss.detach()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--image-batch", type=int, default=4, help="the anchor's stage-1 batch per GPU")
    parser.add_argument("--video-batch", type=int, default=1, help="the anchor's stage-2 batch per GPU")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        # `make bench` runs every script: on a CPU machine this one says why it made nothing and lets the others run
        print("sd15_train_speed: skipped, no CUDA GPU here (reports/sd15_train_speed.md is left as it is)")
        return
    from models.animate_anyone import build_animate_anyone
    from models.config import named_model_config

    config = named_model_config("sd15")
    device = torch.device("cuda")
    began = time.perf_counter()
    model = build_animate_anyone(config, random_init=True).to(device)
    model.enable_gradient_checkpointing()
    build_s = time.perf_counter() - began
    height, width = config.resolution
    rows = []
    for stage, batch_size, frames in (("image", args.image_batch, 1), ("video", args.video_batch, config.frames)):
        generator = torch.Generator(device=device).manual_seed(0)
        batch = {
            "frames": torch.rand(batch_size, frames, 3, height, width, generator=generator, device=device) * 2 - 1,
            "pose_images": torch.rand(batch_size, frames, 3, height, width, generator=generator, device=device),
            "reference": torch.rand(batch_size, 3, height, width, generator=generator, device=device) * 2 - 1,
        }
        result = measure(model, stage, batch, args.steps, args.warmup)
        print(stage, result, flush=True)
        rows.append(
            f"| {stage} | {batch_size} x {frames} x {height}x{width} | {result['trainable_m']:.1f} | "
            f"{result['median_s']:.3f} ({result['min_s']:.3f}-{result['max_s']:.3f}) | "
            f"{result['peak_allocated_gib']:.1f} | {result['peak_reserved_gib']:.1f} |"
        )
        del batch
    params = sum(p.numel() for p in model.parameters()) / 1e6
    body = "\n".join(
        [
            f"GPU: {torch.cuda.get_device_name(device)}, torch {torch.__version__} "
            f"(CUDA {torch.version.cuda}); model built in {build_s:.0f} s, {params:.0f}M parameters in all.",
            "",
            "bf16 autocast (fp32 master weights), gradient checkpointing on, AdamW, gradient clipping; "
            f"{args.warmup} warm-up steps, then {args.steps} timed (median, min-max); random initialisation and "
            "random batches (the cost does not depend on the values).",
            "",
            "| stage | batch (clips x frames x px) | trainable (M) | s/step | peak allocated (GiB) "
            "| peak reserved (GiB) |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    print(write_report("sd15_train_speed", "jobs.bench.sd15_train_speed", body).read_text())


if __name__ == "__main__":
    main()
