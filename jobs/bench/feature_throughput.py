"""Feature throughput on CPU: videos per second at 16x224x224 for each feature network, random weights.

    python -m jobs.bench.feature_throughput [--videos 4] [--videomae-videos 1] [--skip-videomae]

Writes reports/feature_throughput.md. Each figure is the whole path a scored video takes (uint8 frames in,
preprocessing, forward pass, float64 features out), timed after one warm-up video. Random weights cost the same
as trained ones, so the figures hold for real scoring on the same machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from benchmark.features.base import FeatureNet
from jobs.bench.report import write_report

FRAMES, SIZE = 16, 224


def _nets(include_videomae: bool) -> list[tuple[str, str, Callable[[], FeatureNet], str]]:
    from benchmark.features.i3d import I3DFeatures, build_i3d
    from benchmark.features.inception import FIDInceptionPool3, InceptionFeatures, build_fid_inception
    from benchmark.features.r3d50 import R3D50Features, build_r3d50

    nets = [
        ("FVD", "fvd-i3d-400", lambda: I3DFeatures(build_i3d(), sha256="random"), "one 16-frame clip at 224"),
        (
            "FID",
            "fid-inception",
            lambda: InceptionFeatures(FIDInceptionPool3(build_fid_inception()), sha256="random", batch_size=16),
            "16 frames, each resized to 299",
        ),
        ("FID-VID", "fidvid-r3d50", lambda: R3D50Features(build_r3d50(), sha256="random"), "one segment at 112"),
    ]
    if include_videomae:
        from benchmark.features.videomae import VideoMAEFeatures, build_videomae

        nets.append(
            (
                "cd-FVD",
                "cdfvd-videomae-v2-g",
                lambda: VideoMAEFeatures(build_videomae(), sha256="random"),
                "ViT-g, 2048 tokens",
            )
        )
    return nets


def _features(net: FeatureNet, video: np.ndarray) -> np.ndarray:
    # FID takes the video's frames as a batch of images; the video networks take a batch of one video.
    return net.features(video if net.network == "fid-inception" else video[None])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4, help="timed videos per network (after one warm-up)")
    parser.add_argument("--videomae-videos", type=int, default=1, help="timed videos for the 1B-parameter ViT-g")
    parser.add_argument("--skip-videomae", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, (FRAMES, SIZE, SIZE, 3), dtype=np.uint8)
    rows = [
        "| metric | network | what one video costs | parameters | build (s) | s / video | videos / s |",
        "|---|---|---|---|---|---|---|",
    ]
    for metric, network, make, what in _nets(not args.skip_videomae):
        start = time.perf_counter()
        net = make()
        build = time.perf_counter() - start
        params = sum(p.numel() for p in net.module.parameters())
        count = args.videomae_videos if network == "cdfvd-videomae-v2-g" else args.videos
        with torch.inference_mode():
            _features(net, video)  # warm-up (allocations, oneDNN kernel selection)
            start = time.perf_counter()
            for _ in range(count):
                _features(net, video)
            per_video = (time.perf_counter() - start) / count
        rows.append(
            f"| {metric} | {network} | {what} | {params / 1e6:.1f} M | {build:.1f} | {per_video:.3f} |"
            f" {1 / per_video:.3f} |"
        )
        print(rows[-1], flush=True)
        del net
    body = (
        "# Feature throughput on CPU (16 frames at 224x224 per video, random weights)\n\n"
        f"Timed over {args.videos} videos per network ({args.videomae_videos} for VideoMAE-v2 ViT-g) after one "
        "warm-up video, batch of one video, float32, uint8 frames in and float64 features out (preprocessing "
        "included).\n\n" + "\n".join(rows) + "\n"
    )
    print(f"wrote {write_report('feature_throughput', 'jobs.bench.feature_throughput', body)}")


if __name__ == "__main__":
    main()
