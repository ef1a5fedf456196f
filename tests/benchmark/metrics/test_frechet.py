"""FVD, cd-FVD, FID and FID-VID: invariants (identical sets give 0, merged halves equal the whole), the fixed
reference side, the stateless functions, and validation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from benchmark.metrics.base import Sample
from benchmark.metrics.frechet import FID, FIDVID, FVD, ContentDebiasedFVD, FrechetMetric, fid, fvd
from benchmark.protocol import ProtocolMismatchError, get_protocol
from benchmark.stats import FeatureStats

BD16 = get_protocol("bd16")
FID2 = dataclasses.replace(BD16, name="bd16-fid2", fid_frames=2)


def add(metric: FrechetMetric, videos: Sequence[np.ndarray], *, real: bool, prefix: str = "") -> None:
    """Add videos to one side, each as its own sample (keys `{prefix}{real|fake}{i}`)."""
    side = "real" if real else "fake"
    for i, video in enumerate(videos):
        key = f"{prefix}{side}{i}"
        metric.update(Sample(key, ref=video) if real else Sample(key, pred=video))


@pytest.mark.slow
def test_fvd_of_identical_sets_is_zero(i3d_net, videos) -> None:
    metric = FVD(i3d_net, BD16)
    add(metric, videos[:3], real=True)
    add(metric, videos[:3], real=False)
    assert metric.real.n == 3 and metric.real.dim == 400
    assert metric.compute() <= 1e-6
    assert FVD.higher_is_better is False
    assert fvd(videos[:3], videos[:3], i3d_net) == pytest.approx(metric.compute(), abs=1e-12)


def test_fid_identical_zero_different_positive_and_stateless_agrees(inception_net, videos) -> None:
    metric = FID(inception_net, FID2)
    add(metric, videos[:2], real=True)
    add(metric, videos[:2], real=False)
    assert metric.real.n == 4  # two sampled frames per video
    assert metric.compute() <= 1e-6
    metric.reset(keep_real=True)
    add(metric, videos[2:], real=False)
    value = metric.compute()
    assert value > 1e-3
    assert fid(videos[:2], videos[2:], inception_net, FID2) == pytest.approx(value, rel=1e-9)


def test_paired_samples_give_what_the_two_sides_give_apart(inception_net, videos) -> None:
    paired, apart = FID(inception_net, FID2), FID(inception_net, FID2)
    for i in range(2):
        paired.update(Sample(f"k{i}", pred=videos[2 + i], ref=videos[i]))
    add(apart, videos[:2], real=True)
    add(apart, videos[2:], real=False)
    assert paired.compute() == pytest.approx(apart.compute(), rel=1e-12)
    assert paired.records["videos"] == {"k0": "pred+ref", "k1": "pred+ref"}
    row = paired.row()
    assert row.per_video is None and row.num_videos == 2 and row.unit == FrechetMetric.unit
    assert row.extras == {"num_feature_rows": 4, "num_reference_rows": 4}


def test_fid_state_merged_from_halves_equals_whole(inception_net, videos) -> None:
    whole = FID(inception_net, FID2)
    for i, video in enumerate(videos):
        whole.update(Sample(f"k{i}", pred=255 - video, ref=video))
    first, second = FID(inception_net, FID2), FID(inception_net, FID2)
    for i, video in enumerate(videos):
        (first if i < 1 else second).update(Sample(f"k{i}", pred=255 - video, ref=video))
    first.merge(second)
    assert first.real.n == whole.real.n == 8
    np.testing.assert_allclose(first.real.total, whole.real.total, rtol=1e-12)
    np.testing.assert_allclose(first.real.outer, whole.real.outer, rtol=1e-12, atol=1e-12)
    assert first.compute() == pytest.approx(whole.compute(), rel=1e-9)
    assert all(v.dtype == np.float64 for v in first.state.values())
    with pytest.raises(ValueError, match="both states scored"):
        first.merge(second)  # the same videos twice
    with pytest.raises(ValueError, match="already scored"):
        first.update(Sample("k1", pred=videos[1]))


@pytest.mark.slow
def test_fid_vid_identical_sets_zero(r3d_net, videos) -> None:
    metric = FIDVID(r3d_net, BD16)
    add(metric, videos[:2], real=True)
    add(metric, videos[:2], real=False)
    assert metric.real.dim == 2048 and metric.real.n == 2
    assert metric.compute() <= 1e-6


def test_cd_fvd_identical_zero_and_sensitive(videomae_net, videos) -> None:
    metric = ContentDebiasedFVD(videomae_net, BD16)  # a 1-block, 24-wide stand-in for the ViT-g
    assert metric.real.dim == 24
    add(metric, videos[:3], real=True)
    add(metric, videos[:3], real=False)
    assert metric.compute() <= 1e-6
    metric.reset(keep_real=True)
    add(metric, [v[::-1].copy() for v in videos[:3]], real=False)  # time-reversed: same frames, other motion
    assert metric.compute() > 0


def test_a_fixed_reference_replaces_the_real_side(inception_net, videos) -> None:
    made = FID(inception_net, FID2)
    add(made, videos[:2], real=True)
    stored = made.real
    fixed = FID(inception_net, FID2, reference=stored)
    assert "real_sum" not in fixed.state  # the state holds only the fake side
    for i in range(2):
        fixed.update(Sample(f"k{i}", pred=videos[2 + i], ref=videos[3 - i]))  # references ignored: side is fixed
    add(made, videos[2:], real=False)
    assert fixed.compute() == pytest.approx(made.compute(), rel=1e-12)
    assert fixed.real.n == 4 and fixed.records["videos"] == {"k0": "pred", "k1": "pred"}
    with pytest.raises(ValueError, match="fixed to reference"):
        fixed.update_features(np.zeros((1, 2048)), real=True)
    other = FID(inception_net, FID2, reference=FID(inception_net, FID2).real)
    with pytest.raises(ValueError, match="different fixed reference"):
        fixed.merge(other)
    with pytest.raises(ValueError, match="already added"):
        made.use_reference(stored)


def test_reference_statistics_from_another_protocol_are_refused(inception_net) -> None:
    other = dataclasses.replace(BD16, name="bd16-fid4", fid_frames=4)
    reference = FeatureStats(2048, FID(inception_net, other).view)
    with pytest.raises(ProtocolMismatchError, match="fid_frames"):
        FID(inception_net, FID2, reference=reference)
    wrong_weights = FeatureStats(2048, FID.view_json(FID2.bind_weights("fid-inception", "f" * 64)))
    with pytest.raises(ProtocolMismatchError, match="weights_sha256"):
        FID(inception_net, FID2, reference=wrong_weights)


def test_constructor_arguments_are_checked(inception_net, i3d_net) -> None:
    with pytest.raises(ValueError, match="uses 'fvd-i3d-400' for fvd"):
        FVD(inception_net, BD16)
    with pytest.raises(ValueError, match="16-frame segments"):
        FIDVID(i3d_net, dataclasses.replace(BD16, name="bd8", frames=8))
    with pytest.raises(ValueError, match="even number of frames"):
        ContentDebiasedFVD(i3d_net, dataclasses.replace(BD16, name="bd15", frames=15))
    with pytest.raises(TypeError, match="Protocol"):
        FID(inception_net, "bd16")
    with pytest.raises(TypeError, match="FeatureNet"):
        FID("inception", BD16)
    with pytest.raises(ValueError, match="at least 2"):
        FID(inception_net, BD16).compute()


def test_update_refuses_bad_samples(inception_net, i3d_net) -> None:
    metric = FID(inception_net, BD16)
    with pytest.raises(ValueError, match="neither a generated nor a reference video"):
        metric.update(Sample("k"))
    with pytest.raises(TypeError, match="takes a Sample"):
        metric.update(np.zeros((2, 8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="needs clips of 16"):
        FVD(i3d_net, BD16).update(Sample("k", ref=np.zeros((8, 16, 16, 3), dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"^gen\.mp4: video has 8 frames"):  # the sample's name for its video
        FVD(i3d_net, BD16).update(Sample("k", pred=np.zeros((8, 16, 16, 3), dtype=np.uint8), pred_name="gen.mp4"))
