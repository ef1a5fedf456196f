"""The rows of the background comparison (jobs.bench.background_models): each row's configuration file, its
switches, and the bar its line in the report reads it against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The two bar kinds: "bg-camera" below the other row's, or "bg-dynamics" (generated / true background motion)
#: closer to 1 than the other row's; either with the 95% bootstrap intervals apart.
BAR_METRICS = ("bg-camera", "bg-dynamics")


@dataclass(frozen=True)
class Bar:
    metric: str  # one of BAR_METRICS
    against: str  # the row it is read against
    issue: bool = False  # the issue's own bar (said "not measured" when a row of it is missing), not a variant's

    def __post_init__(self) -> None:
        if self.metric not in BAR_METRICS:
            raise ValueError(f"unknown bar metric {self.metric!r}; known: {BAR_METRICS}")


@dataclass(frozen=True)
class Row:
    name: str  # the leaderboard's model name and the run folder's
    config: str  # a run configuration of models/configs
    overrides: dict[str, Any] = field(default_factory=dict)  # merged into its `model:` section
    what: str = ""
    default: bool = True  # among the rows `--rows` gives by default
    bar: Bar | None = None  # the bar line the report gives it


CAMERA = Bar("bg-camera", "animate-anyone", issue=True)
DYNAMICS = Bar("bg-dynamics", "animate-anyone", issue=True)
# backdrop's CPU-scale setting `reference_concat` changes the baseline too, so those rows are read against the
# baseline with it: against the plain one, the concatenation's own effect would count as the BML's.
DYNAMICS_CONCAT = Bar("bg-dynamics", "animate-anyone-reference-concat")

ROWS = (
    Row("animate-anyone", "tiny", what="the baseline (AnimateAnyone)"),
    Row("disentangled", "disentangled_tiny", what="pose + sparse masked tracks (arXiv 2405.16393)", bar=CAMERA),
    Row("disentangled-warped", "disentangled_variant_tiny", what="backdrop's variant: + the warped reference",
        bar=Bar("bg-camera", "animate-anyone")),
    Row("animate-anywhere", "animate_anywhere_tiny", what="BML + epipolar loss (arXiv 2504.19834)", bar=DYNAMICS),
    Row("disentangled-no-inverse-mask", "disentangled_tiny", {"disentangled": {"inverse_mask": False}}, "ablation"),
    Row("disentangled-no-global", "disentangled_tiny", {"disentangled": {"global_feature": False}}, "ablation"),
    Row("disentangled-no-last-frame", "disentangled_tiny", {"disentangled": {"last_frame_concat": False}}, "ablation"),
    Row("animate-anywhere-no-epipolar", "animate_anywhere_tiny", {"animate_anywhere": {"epipolar_loss": False}},
        "ablation"),
    Row("animate-anywhere-no-bml", "animate_anywhere_tiny",
        {"animate_anywhere": {"bml": False, "epipolar_loss": False}},
        "ablation: BML off (the epipolar loss constrains its attention, so off too)"),
    # Opt-in (`--rows`): the tiny file runs the BML's 3D branch on the 8x8 and 4x4 grids only; this row runs it on
    # the 16x16 grid too, as the sd15 file does, and trains for longer (58 minutes against 34 in
    # reports/background_models_video.md).
    Row("animate-anywhere-full-grid", "animate_anywhere_tiny", {"animate_anywhere": {"max_tokens": 256}},
        "AnimateAnywhere, BML on the 16x16 grid too", default=False, bar=Bar("bg-dynamics", "animate-anyone")),
    # Opt-in: backdrop's CPU-scale setting `reference_concat` (models/config.py) on the baseline and AnimateAnywhere,
    # a direct path to the reference beside the reference attention, which does not learn to copy at these budgets
    # (reports/reference_copy_video.md).
    Row("animate-anyone-reference-concat", "tiny", {"reference_concat": True},
        "the baseline, + the reference concatenated (backdrop's setting)", default=False),
    Row("animate-anywhere-reference-concat", "animate_anywhere_tiny", {"reference_concat": True},
        "AnimateAnywhere, + the reference concatenated (backdrop's setting)", default=False, bar=DYNAMICS_CONCAT),
    # Opt-in: both of the above at once, the BML's 3D branch on the 16x16 grid (a token is 8 px there, against 16-32
    # px on the 8x8 and 4x4 grids and a camera drift of a few px a frame) with the reference concatenated.
    Row("animate-anywhere-reference-concat-full-grid", "animate_anywhere_tiny",
        {"reference_concat": True, "animate_anywhere": {"max_tokens": 256}},
        "AnimateAnywhere, + the reference concatenated, BML on the 16x16 grid too", default=False,
        bar=DYNAMICS_CONCAT),
    # Opt-in: the two above with a 3D rotary position code on the BML's attention (`rope`; without it that attention
    # cannot tell places apart, models/components/background_motion.py).
    Row("animate-anywhere-reference-concat-rope", "animate_anywhere_tiny",
        {"reference_concat": True, "animate_anywhere": {"rope": True}},
        "AnimateAnywhere, + the reference concatenated, + RoPE on the BML", default=False, bar=DYNAMICS_CONCAT),
    Row("animate-anywhere-reference-concat-rope-full-grid", "animate_anywhere_tiny",
        {"reference_concat": True, "animate_anywhere": {"max_tokens": 256, "rope": True}},
        "AnimateAnywhere, + the reference concatenated, + RoPE on the BML, on the 16x16 grid too", default=False,
        bar=DYNAMICS_CONCAT),
)  # fmt: skip
DEFAULT_ROWS = tuple(r.name for r in ROWS if r.default)


def check_rows(rows: tuple[Row, ...]) -> None:
    """Every bar reads its row against a row that exists, and names are unique."""
    names = [r.name for r in rows]
    if len(set(names)) != len(names):
        raise ValueError(f"row names repeat: {sorted(n for n in set(names) if names.count(n) > 1)}")
    for row in rows:
        if row.bar and row.bar.against not in names:
            raise ValueError(f"row {row.name!r} is read against {row.bar.against!r}, which is not a row")
