"""Long videos with bounded memory: the full-size `sd15` pipeline (random initialisation: the cost does not depend
on the weights) generating 24, 72 and 144 frames at 512 px on one GPU, in overlapping windows of 24 frames (4
shared); seconds and peak GPU memory per video. Writes reports/sd15_long_video.md; needs a CUDA GPU.

    python -m jobs.bench.sd15_long_video [--steps 10] [--frames 24 72 144]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from jobs.bench.report import write_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--frames", type=int, nargs="+", default=[24, 72, 144])
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("sd15_long_video: skipped, no CUDA GPU here (reports/sd15_long_video.md is left as it is)")
        return
    from models.animate_anyone import build_animate_anyone
    from models.config import named_model_config
    from models.pipelines.context import context_windows
    from models.pipelines.pipeline_animate_anyone import AnimateAnyonePipeline

    config = named_model_config("sd15")
    device = torch.device("cuda")
    model = build_animate_anyone(config, random_init=True).to(device).eval()
    pipeline = AnimateAnyonePipeline(model)
    height, width = config.resolution
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    rows = []
    for frames in args.frames:
        poses = torch.rand(frames, 3, height, width, generator=torch.Generator().manual_seed(frames))
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        torch.cuda.synchronize(device)
        began = time.perf_counter()
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            video = pipeline(
                reference,
                poses,
                num_inference_steps=args.steps,
                guidance_scale=3.5,
                generator=torch.Generator().manual_seed(0),
            )
        torch.cuda.synchronize(device)
        seconds = time.perf_counter() - began
        peak = torch.cuda.max_memory_allocated(device) / 2**30
        print(frames, video.shape, f"{seconds:.1f} s", f"{peak:.2f} GiB", flush=True)
        windows = len(context_windows(frames, config.context_frames, config.context_overlap))
        rows.append(
            f"| {frames} | {tuple(video.shape)} | {windows} | {seconds:.1f} | {seconds / frames:.3f} | {peak:.2f} |"
        )
    body = "\n".join(
        [
            f"GPU: {torch.cuda.get_device_name(device)}, torch {torch.__version__}. Windows of {config.context_frames} "
            f"frames sharing {config.context_overlap}; {args.steps} DDIM steps with classifier-free guidance (3.5); "
            "bf16 autocast; random initialisation, random reference and poses.",
            "",
            "| frames | video | windows | seconds | seconds per frame | peak allocated (GiB) |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    print(write_report("sd15_long_video", "jobs.bench.sd15_long_video", body).read_text())


if __name__ == "__main__":
    main()
