"""The metric contract: the sample, the result row, merge and reset written once in the base, and the catalogue of
metrics (every name has a class that declares what the contract asks)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from benchmark.metrics import ALL_METRICS, BACKGROUND_METRICS, FAMILIES, metric_class
from benchmark.metrics.background.suite import BACKGROUND_CLASSES
from benchmark.metrics.base import MeanOverVideos, Metric, ResultRow, Sample
from benchmark.protocol import Protocol, ProtocolMismatchError, get_protocol

BD16 = get_protocol("bd16")


class MeanLevelGap(MeanOverVideos):
    """A metric as a user would add one: the mean grey-level gap of a pair, plus the brightest key as a record."""

    name = "level-gap"
    higher_is_better = False
    unit = "grey levels"
    record_tables = ("bright",)

    @classmethod
    def protocol_view(cls, protocol: Protocol) -> dict[str, Any]:
        return super().protocol_view(protocol) | {"pixel_resolution": protocol.pixel_resolution}

    def update(self, sample: Sample) -> float:
        self.check_sample(sample)
        value = self.add_value(sample.key, float(np.abs(sample.pred.astype(float) - sample.ref).mean()))
        if sample.pred.mean() > 128:
            self.records["bright"][sample.key] = True
        return value

    def extras(self) -> dict[str, Any]:
        return {"bright_videos": sorted(self.records["bright"])}


def _pair(level: int, gap: int) -> tuple[np.ndarray, np.ndarray]:
    ref = np.full((2, 4, 4, 3), level, dtype=np.uint8)
    return (ref + gap).astype(np.uint8), ref


def test_a_new_metric_gets_merge_reset_view_and_row_from_the_base() -> None:
    gaps = {"a": (10, 3), "b": (200, 1), "c": (50, 8), "d": (140, 2)}
    whole = MeanLevelGap(BD16)
    for key, (level, gap) in gaps.items():
        whole.update(Sample(key, *_pair(level, gap)))
    assert whole.compute() == pytest.approx(np.mean([3, 1, 8, 2]), rel=1e-15)
    first, second = MeanLevelGap(BD16), MeanLevelGap(BD16)
    for key, (level, gap) in gaps.items():
        (first if key in "bc" else second).update(Sample(key, *_pair(level, gap)))
    first.merge(second)
    assert first.compute() == whole.compute() and first.per_video == whole.per_video
    assert first.records == whole.records == {"bright": {"b": True, "d": True}}
    row = first.row(model="m", benchmark="bench")
    assert row.to_dict() == {
        "metric": "level-gap",
        "value": 3.5,
        "unit": "grey levels",
        "higher_is_better": False,
        "protocol": "bd16",
        "protocol_view": first.view,
        "num_videos": 4,
        "per_video": {"b": 1.0, "c": 8.0, "a": 3.0, "d": 2.0},
        "model": "m",
        "benchmark": "bench",
        "bright_videos": ["b", "d"],
    }
    assert json.loads(first.view) == {"protocol": "bd16", "metric": "level-gap", "num_videos": None} | {
        "pixel_resolution": None
    }
    first.reset()
    assert first.per_video == {} and first.records == {"bright": {}} and float(first.state["count"]) == 0.0
    with pytest.raises(ValueError, match="no videos scored"):
        first.compute()


class Float32Sums(MeanLevelGap):
    name = "float32-sums"

    def initial_state(self) -> dict[str, np.ndarray]:
        return {"sum": np.zeros((), np.float32), "count": np.zeros((), np.float64)}


def test_state_must_be_float64() -> None:
    with pytest.raises(TypeError, match=r"float32-sums: state entries \['sum'\] are not float64"):
        Float32Sums(BD16)


def test_merge_refuses_what_cannot_be_added() -> None:
    a, b = MeanLevelGap(BD16), MeanLevelGap(BD16)
    a.update(Sample("k", *_pair(10, 1)))
    b.update(Sample("k", *_pair(10, 2)))
    with pytest.raises(ValueError, match=r"both states scored \['k'\]"):
        a.merge(b)
    with pytest.raises(ProtocolMismatchError, match="pixel_resolution"):
        a.merge(MeanLevelGap(Protocol("px32", pixel_resolution=32)))
    with pytest.raises(TypeError, match="cannot merge"):
        a.merge(metric_class("bg-track")(BD16))
    with pytest.raises(ValueError, match="already scored"):
        a.update(Sample("k", *_pair(10, 1)))
    with pytest.raises(ValueError, match="non-finite"):
        a.add_value("n", float("nan"))


def test_sample_checks_its_fields_and_computes_derived_values_once() -> None:
    with pytest.raises(ValueError, match="key"):
        Sample("")
    with pytest.raises(TypeError, match="pred must be a numpy array"):
        Sample("k", pred=[[0]])
    sample = Sample("k", *_pair(1, 1), pred_name="/x/k.mp4")
    assert sample.name("pred") == "/x/k.mp4" and sample.name("ref") == "k"
    made = []
    assert sample.derived("twice", lambda: made.append(1) or 2) == 2
    assert sample.derived("twice", lambda: made.append(1) or 3) == 2 and made == [1]
    with pytest.raises(ValueError, match="sample 'k' has no ref"):
        MeanLevelGap(BD16).update(Sample("k", pred=sample.pred))
    with pytest.raises(TypeError, match="Protocol"):
        MeanLevelGap("bd16")


def test_result_rows_keep_their_fields_apart_from_extras() -> None:
    row = ResultRow("psnr", 30.0, "dB", True, "bd16", "{}", num_videos=2, per_video={"a": 29.0, "b": 31.0})
    assert ResultRow.from_dict(row.with_extras(pred_dir="p").to_dict()) == row.with_extras(pred_dir="p")
    with pytest.raises(ValueError, match=r"extras may not replace the row's own fields \['value'\]"):
        row.with_extras(value=1.0)
    old = {"metric": "psnr", "value": 30.0, "higher_is_better": True, "protocol": "bd16", "protocol_view": "{}"}
    read = ResultRow.from_dict({**old, "truncated_videos": []})  # a row written before unit/model/benchmark
    assert read.unit == "" and read.model is None and read.extras == {"truncated_videos": []}
    with pytest.raises(ValueError, match="not a result row"):
        ResultRow.from_dict({"metric": "psnr"})


def test_every_metric_name_has_a_class_that_declares_the_contract() -> None:
    assert tuple(m for family in FAMILIES.values() for m in family) == ALL_METRICS
    assert tuple(BACKGROUND_CLASSES) == BACKGROUND_METRICS  # the suite's classes in the published order
    for name in ALL_METRICS:
        cls = metric_class(name)
        assert issubclass(cls, Metric) and cls.name == name
        assert isinstance(cls.unit, str) and cls.unit
        assert cls.higher_is_better in (True, False, None)
        assert set(cls.requires) <= {"pred", "ref", "truth"}
        assert json.loads(cls.view_json(BD16))["metric"] == name
    with pytest.raises(KeyError, match="unknown metric 'psnr2'"):
        metric_class("psnr2")
