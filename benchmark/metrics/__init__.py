"""Benchmark metrics, all on one contract (`benchmark.metrics.base.Metric`): the Fréchet distances (`frechet`: FVD,
cd-FVD, FID, FID-VID), the pixel metrics (`pixel`: PSNR, SSIM, LPIPS) and the background-motion suite (`background`).

This module holds only the names, so that importing it (or `base`) does not import every metric's dependencies;
`metric_class(name)` imports the one asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmark.metrics.base import Metric

__all__ = [
    "ALL_METRICS",
    "BACKGROUND_METRICS",
    "FAMILIES",
    "FRECHET_METRICS",
    "PIXEL_METRICS",
    "SUITE_METRICS",
    "metric_class",
]

FRECHET_METRICS = ("fvd", "cd-fvd", "fid", "fid-vid")
PIXEL_METRICS = ("psnr", "ssim", "lpips")
#: The suite's metrics read from one analysis of the generated video (its tracks and camera against the truth's).
SUITE_METRICS = (
    "bg-track", "bg-camera", "bg-camera-translation", "bg-camera-rotation", "bg-camera-scale", "bg-camera-label",
    "bg-epipolar", "bg-dynamics",
)  # fmt: skip
#: The background family: the suite, plus the first-frame alignment (the suite measures motion relative to each
#: video's own first frame; how far that frame's background sits from the reference's is this separate figure).
BACKGROUND_METRICS = (*SUITE_METRICS, "bg-first-frame")
#: Names that stand for a whole family in a list of metrics; families in this order in every result.
FAMILIES: dict[str, tuple[str, ...]] = {
    "frechet": FRECHET_METRICS,
    "pixel": PIXEL_METRICS,
    "background": BACKGROUND_METRICS,
}
ALL_METRICS = (*FRECHET_METRICS, *PIXEL_METRICS, *BACKGROUND_METRICS)


def metric_class(name: str) -> type[Metric]:
    """The class of the metric called `name`."""
    if name in FRECHET_METRICS:
        from benchmark.metrics.frechet import FRECHET_CLASSES as classes
    elif name in PIXEL_METRICS:
        from benchmark.metrics.lpips import LPIPS
        from benchmark.metrics.pixel import PIXEL_CLASSES

        classes = {**PIXEL_CLASSES, LPIPS.name: LPIPS}
    elif name in BACKGROUND_METRICS:
        from benchmark.metrics.background.suite import BACKGROUND_CLASSES as classes
    else:
        raise KeyError(f"unknown metric {name!r}; choose from {', '.join(ALL_METRICS)}")
    return classes[name]
