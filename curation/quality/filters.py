"""Clip filters from configuration: each rule bounds one score or restricts the camera label, and every clip's
decision is recorded with the reasons of a rejection (all failing rules, not only the first).

A rule is a mapping: `{score: NAME, min: X, max: Y}` (either bound may be left out) or
`{camera_labels: [static, pan_left, ...]}` (labels allowed) or `{exclude_camera_labels: [dynamic]}`. A score that is
absent or not computed (None, NaN) rejects the clip only when the rule says `required: true`; otherwise the rule
is skipped for that clip and the skip is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.motion import camera_labels as cm

_RULE_KEYS = {"score", "min", "max", "required", "camera_labels", "exclude_camera_labels"}


@dataclass(frozen=True)
class FilterRule:
    score: str | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    camera_labels: tuple[str, ...] | None = None
    exclude_camera_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        kinds = sum(x is not None for x in (self.score, self.camera_labels, self.exclude_camera_labels))
        if kinds != 1:
            raise ValueError("a filter rule names exactly one of `score`, `camera_labels`, `exclude_camera_labels`")
        if self.score is not None and self.min is None and self.max is None:
            raise ValueError(f"filter on {self.score!r} needs `min` or `max`")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"filter on {self.score!r}: min {self.min} > max {self.max}")
        for labels in (self.camera_labels, self.exclude_camera_labels):
            for label in labels or ():
                for part in cm.split_label(label):
                    if part not in cm.CAMERA_COMPONENTS:
                        raise ValueError(f"unknown camera label {label!r}; vocabulary: {list(cm.CAMERA_COMPONENTS)}")


@dataclass(frozen=True)
class FilterDecision:
    kept: bool
    reasons: tuple[str, ...] = ()  # why it was rejected
    skipped: tuple[str, ...] = field(default=())  # rules not applied (score not computed)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


#: The rules a dataset builder expects, on unless a configuration gives its own `filters:` list (`filters: []` turns
#: every rule off): a person of some size in most frames, not a still picture or slide, not mostly black frames, a
#: camera estimate from enough background tracks, and not a camera speed no tracker follows (half a frame per frame
#: at the default 512-pixel clips). Scores are defined in `curation.quality.scores` and `curation.quality.content`.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"score": "person_frames", "min": 0.8, "required": True},
    {"score": "still_fraction", "max": 0.5},
    {"score": "black_frames", "max": 0.2},
    {"score": "tracked_frames", "min": 0.9, "required": True},
    {"score": "camera_magnitude", "max": 256.0},
)


def parse_rules(rules: Sequence[Mapping[str, Any]] | None) -> tuple[FilterRule, ...]:
    """Rules from configuration data; unknown keys raise ValueError naming the rule."""
    parsed = []
    for i, rule in enumerate(rules or ()):
        if not isinstance(rule, Mapping):
            raise ValueError(f"filters[{i}] must be a mapping, got {rule!r}")
        unknown = sorted(set(rule) - _RULE_KEYS)
        if unknown:
            raise ValueError(f"filters[{i}]: unknown keys {unknown}; known: {sorted(_RULE_KEYS)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in rule.items()}
        try:
            parsed.append(FilterRule(**values))
        except (TypeError, ValueError) as error:
            raise ValueError(f"filters[{i}]: {error}") from error
    return tuple(parsed)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def apply_filters(scores: Mapping[str, Any], camera_label: str | None, rules: Sequence[FilterRule]) -> FilterDecision:
    """The decision for one clip from its scores and camera label."""
    reasons: list[str] = []
    skipped: list[str] = []
    for rule in rules:
        if rule.score is not None:
            value = scores.get(rule.score)
            if _missing(value):
                if rule.required:
                    reasons.append(f"{rule.score} not computed")
                else:
                    skipped.append(f"{rule.score} not computed")
                continue
            if rule.min is not None and value < rule.min:
                reasons.append(f"{rule.score} {value:.4g} < min {rule.min:g}")
            if rule.max is not None and value > rule.max:
                reasons.append(f"{rule.score} {value:.4g} > max {rule.max:g}")
        elif rule.camera_labels is not None:
            if camera_label not in rule.camera_labels:
                reasons.append(f"camera label {camera_label} not in {list(rule.camera_labels)}")
        elif rule.exclude_camera_labels is not None and camera_label in rule.exclude_camera_labels:
            reasons.append(f"camera label {camera_label} excluded")
    return FilterDecision(not reasons, tuple(reasons), tuple(skipped))


#: `DEFAULT_RULES` parsed.
DEFAULT_FILTERS: tuple[FilterRule, ...] = parse_rules(DEFAULT_RULES)
