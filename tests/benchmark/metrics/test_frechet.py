"""FVD, cd-FVD, FID and FID-VID: invariants (identical sets give 0, merged halves equal the whole) and validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmark.metrics.frechet import FID, FIDVID, FVD, ContentDebiasedFVD, fid
from benchmark.protocol import ProtocolMismatchError, get_protocol
from benchmark.stats import FeatureStats

BD16 = get_protocol("bd16")
FID2 = dataclasses.replace(BD16, name="bd16-fid2", fid_frames=2)


@pytest.mark.slow
def test_fvd_of_identical_sets_is_zero(i3d_net, videos) -> None:
    metric = FVD(i3d_net, BD16)
    metric.update(videos[:3], real=True)
    metric.update(videos[:3], real=False)
    assert metric.real.n == 3 and metric.real.dim == 400
    assert metric.compute() <= 1e-6
    assert FVD.higher_is_better is False


def test_fid_identical_zero_different_positive_and_stateless_agrees(inception_net, videos) -> None:
    metric = FID(inception_net, FID2)
    metric.update(videos[:2], real=True)
    metric.update(videos[:2], real=False)
    assert metric.real.n == 4  # two sampled frames per video
    assert metric.compute() <= 1e-6
    metric.reset(keep_real=True)
    metric.update(videos[2:], real=False)
    value = metric.compute()
    assert value > 1e-3
    assert fid(videos[:2], videos[2:], inception_net, FID2) == pytest.approx(value, rel=1e-9)


def test_fid_state_merged_from_halves_equals_whole(inception_net, videos) -> None:
    whole = FID(inception_net, FID2)
    whole.update(videos, real=True)
    first, second = FID(inception_net, FID2), FID(inception_net, FID2)
    first.update(videos[:1], real=True)
    second.update(videos[1:], real=True)
    first.merge(second)
    assert first.real.n == whole.real.n == 8
    np.testing.assert_allclose(first.real.total, whole.real.total, rtol=1e-12)
    np.testing.assert_allclose(first.real.outer, whole.real.outer, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_fid_vid_identical_sets_zero(r3d_net, videos) -> None:
    metric = FIDVID(r3d_net, BD16)
    metric.update(videos[:2], real=True)
    metric.update(videos[:2], real=False)
    assert metric.real.dim == 2048 and metric.real.n == 2
    assert metric.compute() <= 1e-6


def test_cd_fvd_identical_zero_and_sensitive(videomae_net, videos) -> None:
    metric = ContentDebiasedFVD(videomae_net, BD16)  # a 1-block, 24-wide stand-in for the ViT-g
    assert metric.real.dim == 24
    metric.update(videos[:3], real=True)
    metric.update(videos[:3], real=False)
    assert metric.compute() <= 1e-6
    metric.reset(keep_real=True)
    metric.update([v[::-1].copy() for v in videos[:3]], real=False)  # time-reversed: same frames, other motion
    assert metric.compute() > 0


def test_reference_statistics_from_another_protocol_are_refused(inception_net) -> None:
    other = dataclasses.replace(BD16, name="bd16-fid4", fid_frames=4)
    reference = FeatureStats(2048, FID(inception_net, other).view)
    with pytest.raises(ProtocolMismatchError, match="fid_frames"):
        FID(inception_net, FID2, reference=reference)
    wrong_weights = FeatureStats(2048, FID2.bind_weights("inception-fid", "f" * 64).view_json("fid"))
    with pytest.raises(ProtocolMismatchError, match="weights_sha256"):
        FID(inception_net, FID2, reference=wrong_weights)


def test_constructor_arguments_are_checked(inception_net, i3d_net) -> None:
    with pytest.raises(ValueError, match="uses 'i3d-400' for fvd"):
        FVD(inception_net, BD16)
    with pytest.raises(ValueError, match="16-frame segments"):
        FIDVID(i3d_net, dataclasses.replace(BD16, name="bd8", frames=8))
    with pytest.raises(TypeError, match="Protocol"):
        FID(inception_net, "bd16")
    with pytest.raises(ValueError, match="at least 2"):
        FID(inception_net, BD16).compute()


def test_fvd_refuses_videos_shorter_than_the_clip(i3d_net) -> None:
    with pytest.raises(ValueError, match="needs clips of 16"):
        FVD(i3d_net, BD16).update([np.zeros((8, 16, 16, 3), dtype=np.uint8)], real=True)
