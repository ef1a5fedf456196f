"""The metric contract (torchmetrics' shape), the sample every metric reads, and the result row every metric writes.

A `Metric` keeps its state in `state`, a dict of float64 numpy arrays (0-d for scalars) that are sums: `merge()` adds
another instance's state entry by entry, so the state of the whole data is the sum of the states of any split of it
(distributed or resumed scoring). Besides the sums, a metric may keep per-video values (`per_video`) and per-video
records (`records`: tables keyed by video, e.g. camera labels); those merge by union, and a video scored in both
states is refused. `update(sample)` is the one way in, `compute()` gives the value, `row()` the result row.

Each metric declares its own *protocol view* (`protocol_view`): the protocol-wide part (`Protocol.base_view`: name,
number of videos, feature network and its weights' sha256) plus the protocol fields the metric reads. The view, as
canonical JSON (`view_json`), tags every state, statistics file and result row; states with different views are
never merged.
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

from benchmark.protocol import Protocol, require_same_view

__all__ = ["MeanOverVideos", "Metric", "ResultRow", "Sample", "canonical_json", "check_protocol", "video_keys"]

T = TypeVar("T")
SAMPLE_INPUTS = ("pred", "ref", "truth")


def canonical_json(view: Mapping[str, Any]) -> str:
    """The one serialisation of a view: sorted keys, no spaces (what statistics files and result rows store)."""
    return json.dumps(view, sort_keys=True, separators=(",", ":"))


def video_keys(keys: Sequence[str] | None, count: int, what: str) -> list[str]:
    """The keys of `count` videos scored in one call: `keys` as given (one per video), else video0, video1, ..."""
    names = list(keys) if keys is not None else [f"video{i}" for i in range(count)]
    if len(names) != count:
        raise ValueError(f"{what}: {len(names)} keys for {count} videos")
    return names


def check_protocol(protocol: object, metric: str) -> Protocol:
    """`protocol` if it is a `Protocol`; a TypeError naming the metric otherwise."""
    if not isinstance(protocol, Protocol):
        raise TypeError(f"{metric}: protocol must be a Protocol, got {type(protocol).__name__}")
    return protocol


@dataclass
class Sample:
    """One scored item as every metric receives it: a generated video, its reference, the ground truth.

    Videos are uint8 RGB [T, H, W, 3]. Which fields a metric needs is its `requires`; set-level metrics (the Fréchet
    distances) take either video alone (an unpaired set) or both. `pred_name` and `ref_name` name the videos in
    error messages (their files, in the harness); the key stands in for them when empty.
    """

    key: str
    pred: np.ndarray | None = None
    ref: np.ndarray | None = None
    truth: Any = None  # ground truth beyond the reference video: a BackgroundTruth for the background suite
    pred_name: str = ""
    ref_name: str = ""
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"a sample's key must be a non-empty string, got {self.key!r}")
        for what in ("pred", "ref"):
            video = getattr(self, what)
            if video is not None and not isinstance(video, np.ndarray):
                raise TypeError(f"sample {self.key!r}: {what} must be a numpy array, got {type(video).__name__}")

    def name(self, what: str) -> str:
        """How errors name the sample's `pred` or `ref` video."""
        return (self.pred_name if what == "pred" else self.ref_name) or self.key

    def derived(self, what: Hashable, make: Callable[[], T]) -> T:
        """`make()`, computed once per sample: what several metrics derive from the same videos (frames resized to the
        protocol's resolution, the background analysis) is computed by the first and reused by the others."""
        if what not in self._derived:
            self._derived[what] = make()
        return self._derived[what]


@dataclass
class ResultRow:
    """One metric's result: what a results table, a leaderboard row or a report reads.

    `to_dict()` is the JSON form `benchmark.scoring.write_results` writes: the fields below plus `extras` (the
    metric's own fields, such as `num_feature_rows` or `labels`, and the harness's, such as `pred_dir`) at top level.
    """

    metric: str
    value: float
    unit: str
    higher_is_better: bool | None  # None: neither; the ideal is a target value (`bg-dynamics`: 1)
    protocol: str
    protocol_view: str  # canonical JSON of the metric's view of the protocol
    num_videos: int | None = None
    per_video: dict[str, float] | None = None  # None for set-level metrics: a distance between sets has no per-video
    model: str | None = None  # what was scored (default in the harness: the generated videos' folder name)
    benchmark: str | None = None  # what it was scored on (default in the harness: the reference statistics' dataset)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = sorted(set(self.extras) & self.core_fields())
        if clash:
            raise ValueError(f"{self.metric}: extras may not replace the row's own fields {clash}")

    @staticmethod
    def core_fields() -> set[str]:
        return {f.name for f in dataclasses.fields(ResultRow)} - {"extras"}

    def to_dict(self) -> dict[str, Any]:
        core = {name: getattr(self, name) for name in self.core_fields()}
        return {**core, **self.extras}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> ResultRow:
        """Read back a row written by `to_dict` (rows written before `unit`, `model` and `benchmark` existed too)."""
        missing = {"metric", "value", "protocol", "protocol_view"} - set(row)
        if missing:
            raise ValueError(f"not a result row: missing {sorted(missing)}")
        core = {name: row[name] for name in cls.core_fields() if name in row}
        core.setdefault("unit", "")
        core.setdefault("higher_is_better", None)
        return cls(**core, extras={k: v for k, v in row.items() if k not in core})

    def with_extras(self, **extras: Any) -> ResultRow:
        """The same row with more extra fields (the harness's context)."""
        return dataclasses.replace(self, extras={**self.extras, **extras})


class Metric(ABC):
    """The contract every metric follows. Subclasses set the class attributes and implement `initial_state`,
    `update` and `compute`; `merge`, `reset`, the view and the result row are written here once."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool | None]
    unit: ClassVar[str]
    #: Sample fields `update()` cannot do without.
    requires: ClassVar[tuple[str, ...]] = ("pred", "ref")
    #: False for set-level metrics, whose rows carry `per_video = None`.
    has_per_video: ClassVar[bool] = True
    #: Names of the per-video record tables (key -> JSON-able value) the metric keeps besides its values.
    record_tables: ClassVar[tuple[str, ...]] = ()

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = check_protocol(protocol, self.name)
        self.view = self.view_json(self.protocol, **self.view_options())
        self.state: dict[str, np.ndarray] = self.initial_state()
        not_float64 = sorted(k for k, v in self.state.items() if np.asarray(v).dtype != np.float64)
        if not_float64:  # sums in lower precision would make merged states depend on how the data was split
            raise TypeError(f"{self.name}: state entries {not_float64} are not float64")
        self.per_video: dict[str, float] = {}
        self.records: dict[str, dict[str, Any]] = {table: {} for table in self.record_tables}

    # The view -----------------------------------------------------------------------------------------------------

    @classmethod
    def protocol_view(cls, protocol: Protocol) -> dict[str, Any]:
        """Everything that determines this metric's values under `protocol`. Subclasses add the protocol fields they
        read to `super().protocol_view(protocol)`; the protocol-wide part comes from `Protocol.base_view`."""
        return protocol.base_view(cls.name)

    @classmethod
    def view_json(cls, protocol: Protocol, **options: Any) -> str:
        """The view as stored in statistics files and result rows (canonical JSON)."""
        return canonical_json(cls.protocol_view(protocol, **options))

    def view_options(self) -> dict[str, Any]:
        """Settings of this instance that `protocol_view` takes besides the protocol (the suite's configuration)."""
        return {}

    # State --------------------------------------------------------------------------------------------------------

    @abstractmethod
    def initial_state(self) -> dict[str, np.ndarray]:
        """The empty state: float64 arrays (0-d for scalars) whose entry-by-entry sum is the merged state."""

    @abstractmethod
    def update(self, sample: Sample) -> float | None:
        """Add one sample; returns its per-video value where the metric has one."""

    @abstractmethod
    def compute(self) -> float:
        """The metric's value over everything added (and merged) so far."""

    def extras(self) -> dict[str, Any]:
        """Fields this metric adds to its result row."""
        return {}

    def video_keys(self) -> set[str]:
        """Every video this state has seen (values and records)."""
        keys = set(self.per_video)
        for table in self.records.values():
            keys |= table.keys()
        return keys

    def num_videos(self) -> int:
        """Videos this state has seen (the row's `num_videos` unless the harness says otherwise)."""
        return len(self.video_keys())

    def check_sample(self, sample: Sample) -> None:
        """Refuse a sample without what this metric needs, or one whose key this state has already seen."""
        if not isinstance(sample, Sample):
            raise TypeError(f"{self.name}: update() takes a Sample, got {type(sample).__name__}")
        missing = [what for what in self.requires if getattr(sample, what) is None]
        if missing:
            raise ValueError(f"{self.name}: sample {sample.key!r} has no {' or '.join(missing)}")
        self.require_new(sample.key)

    def require_new(self, key: str) -> None:
        """Refuse a video this state has already seen: counted twice, it would weigh double in the mean."""
        if key in self.per_video or any(key in table for table in self.records.values()):
            raise ValueError(f"{self.name}: video {key!r} was already scored")

    def check_mergeable(self, other: Metric) -> None:
        """Hook: refuse states that share the view but cannot be added (the Fréchet metrics' fixed reference
        statistics). By default any two states under the same view can be added."""
        return None

    def merge(self, other: Metric) -> None:
        """Add `other`'s state into this one: sums entry by entry, per-video values and records by disjoint union."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        require_same_view(other.view, self.view, what=f"{self.name} state being merged")
        self.check_mergeable(other)
        if other.state.keys() != self.state.keys():
            raise ValueError(f"{self.name}: states hold different sums ({sorted(other.state)} vs {sorted(self.state)})")
        overlap = self.video_keys() & other.video_keys()
        if overlap:
            raise ValueError(f"{self.name}: both states scored {sorted(overlap)[:5]}")
        for key, value in other.state.items():
            self.state[key] = self.state[key] + value
        self.per_video.update(other.per_video)
        for table, rows in other.records.items():
            self.records[table].update(rows)

    def reset(self) -> None:
        """Back to the empty state under the same protocol view."""
        self.state = self.initial_state()
        self.per_video = {}
        self.records = {table: {} for table in self.record_tables}

    def row(
        self, *, model: str | None = None, benchmark: str | None = None, num_videos: int | None = None
    ) -> ResultRow:
        """The result row of the current state (`num_videos`: the videos this state has seen unless given)."""
        return ResultRow(
            metric=self.name,
            value=self.compute(),
            unit=self.unit,
            higher_is_better=self.higher_is_better,
            protocol=self.protocol.name,
            protocol_view=self.view,
            num_videos=self.num_videos() if num_videos is None else num_videos,
            per_video=dict(self.per_video) if self.has_per_video else None,
            model=model,
            benchmark=benchmark,
            extras=self.extras(),
        )


def _scalar(value: float = 0.0) -> np.ndarray:
    return np.array(value, dtype=np.float64)


class MeanOverVideos(Metric):
    """A value per video; the metric is their mean, so every video weighs the same whatever its length.

    State: `sum` (of the per-video values) and `count`, both float64. `update()` computes a video's value and hands it
    to `add_value`.
    """

    def initial_state(self) -> dict[str, np.ndarray]:
        return {"sum": _scalar(), "count": _scalar()}

    def add_value(self, key: str, value: float) -> float:
        """Record `value` as video `key`'s and add it to the sums."""
        if not np.isfinite(value):
            raise ValueError(f"{self.name}: non-finite value for video {key!r}")
        self.per_video[key] = float(value)
        self.state["sum"] = self.state["sum"] + np.float64(value)
        self.state["count"] = self.state["count"] + 1.0
        return float(value)

    @property
    def count(self) -> int:
        """Videos with a value."""
        return int(self.state["count"])

    def compute(self) -> float:
        if self.count == 0:
            raise ValueError(f"{self.name}: no videos scored")
        return float(self.state["sum"] / self.state["count"])
