"""Summable feature statistics: merge invariants, float64 state, refusals, and the statistics files."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics.frechet import FID, FVD
from benchmark.protocol import ProtocolMismatchError, get_protocol
from benchmark.stats import FeatureStats, load_stats, save_stats, stats_path


def _stats(x: np.ndarray, view: str) -> FeatureStats:
    s = FeatureStats(x.shape[1], view)
    s.update(x)
    return s


def test_merged_halves_equal_the_whole() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((101, 12)) * 3 + 5
    view = FVD.view_json(get_protocol("bd16"))
    whole = _stats(x, view)
    merged = _stats(x[:40], view) + _stats(x[40:], view)
    assert merged.n == whole.n == 101
    np.testing.assert_allclose(merged.total, whole.total, rtol=1e-13)
    np.testing.assert_allclose(merged.outer, whole.outer, rtol=1e-13)
    np.testing.assert_allclose(merged.mean(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(merged.covariance(), np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)


def test_state_is_float64_and_refuses_nan_and_bad_shapes() -> None:
    s = FeatureStats(3, "")
    s.update(np.ones((2, 3), dtype=np.float32))
    assert s.total.dtype == np.float64 and s.outer.dtype == np.float64
    with pytest.raises(ValueError, match="NaN"):
        s.update(np.array([[np.nan, 0, 0]]))
    with pytest.raises(ValueError, match=r"shape \[B, 3\]"):
        s.update(np.ones((2, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStats(3, "").covariance()


def test_merge_refuses_other_protocols_and_weights() -> None:
    p = get_protocol("bd16")
    a = _stats(np.ones((2, 4)), FVD.view_json(p))
    b = _stats(np.ones((2, 4)), FVD.view_json(get_protocol("bd16-uniform")))
    with pytest.raises(ProtocolMismatchError, match="clip_sampling"):
        a.merge(b)
    c = _stats(np.ones((2, 4)), FVD.view_json(p.bind_weights("fvd-i3d-400", "ab" * 32)))
    with pytest.raises(ProtocolMismatchError, match="weights_sha256"):
        a.merge(c)


def test_stats_file_roundtrip_and_refusal(tmp_path) -> None:
    p = get_protocol("bd16").bind_weights("fvd-i3d-400", "cd" * 32)
    s = _stats(np.random.default_rng(1).standard_normal((5, 6)), FVD.view_json(p))
    path = save_stats(s, stats_path(tmp_path, "synthA", p.name, "fvd"))
    assert path.name == "synthA.bd16.fvd.npz"
    back = load_stats(path, expected_view=FVD.view_json(p))
    assert back.n == 5 and back.protocol == "bd16" and back.metric == "fvd"
    np.testing.assert_array_equal(back.outer, s.outer)
    with np.load(path, allow_pickle=False) as data:  # plain arrays only: no pickled objects in the file
        assert str(data["protocol"]) == "bd16"
    other = get_protocol("bd16").bind_weights("fvd-i3d-400", "ef" * 32)
    with pytest.raises(ProtocolMismatchError, match="weights_sha256"):
        load_stats(path, expected_view=FVD.view_json(other))
    with pytest.raises(ProtocolMismatchError, match="different protocol"):
        load_stats(path, expected_view=FID.view_json(p))
