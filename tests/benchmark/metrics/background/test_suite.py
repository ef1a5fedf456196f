"""The background suite's metrics: state algebra (merged halves equal the whole), input checks naming the input,
the protocol's resolution, and the stateless function."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from benchmark.metrics import SUITE_METRICS, metric_class
from benchmark.metrics.background import suite
from benchmark.metrics.background.analysis import VideoBackground, analyse_background
from benchmark.metrics.background.suite import BackgroundSuite, background_suite
from benchmark.metrics.background.truth import ground_truth_path, load_background_truth
from benchmark.metrics.base import Sample
from benchmark.protocol import Protocol, get_protocol
from benchmark.scoring import ScoreOptions, score
from curation.video.reader import read_video


def _analysis(value: float, dynamics: float | None, frames: int = 23, fallback: int = 23) -> VideoBackground:
    return VideoBackground(
        value,
        value,
        value,
        value / 10,
        value / 5,
        float(value < 1),
        "static",
        "pan_left",
        value,
        frames,
        fallback,
        value,
        2.0,
        dynamics,
        100,
    )


def test_merging_two_halves_equals_the_whole():
    protocol = get_protocol("bd16")
    analyses = {f"v{i}": _analysis(0.3 + 1.7 * i, None if i == 2 else 0.5 + 0.1 * i) for i in range(6)}
    whole, first, second = (BackgroundSuite(protocol) for _ in range(3))
    for i, (key, a) in enumerate(analyses.items()):
        for m in whole.metrics:
            m.update_analysis(a, key=key)
        for m in (first if i < 3 else second).metrics:
            m.update_analysis(a, key=key)
    first.merge(second)
    assert first.compute() == pytest.approx(whole.compute(), rel=1e-15)
    for a, b in zip(first.metrics, whole.metrics, strict=True):
        assert a.count == b.count and a.per_video == b.per_video and a.extras() == b.extras()
        assert a.records == b.records and all(v.dtype == np.float64 for v in a.state.values())
    assert set(whole.compute()) == set(SUITE_METRICS)
    extras = {m.name: m.extras() for m in whole.metrics}
    assert extras["bg-epipolar"]["epipolar_frames"] == 6 * 23 and extras["bg-epipolar"]["epipolar_route"] == (
        "homography transfer"
    )
    assert extras["bg-dynamics"]["static_reference_videos"] == {"v2": analyses["v2"].motion_predicted}
    assert extras["bg-dynamics"]["num_scored_videos"] == 5 and whole.metrics[0].num_videos() == 6
    assert extras["bg-camera-label"]["labels"]["v4"] == ["static", "pan_left"]
    with pytest.raises(ValueError, match="v3"):
        first.merge(second)  # the same videos twice
    with pytest.raises(ValueError, match="already scored"):
        whole.metrics[-1].update_analysis(analyses["v2"], key="v2")  # a video left out counts as seen
    other = BackgroundSuite(Protocol("other", pixel_resolution=128))
    with pytest.raises(ValueError, match="pixel_resolution"):
        whole.metrics[0].merge(other.metrics[0])


def test_bad_input_names_the_input(reference, tmp_path):
    video = sorted(reference.glob("*.mp4"))[1]
    frames = read_video(video)
    truth = load_background_truth(ground_truth_path(video), width=frames.shape[2])
    with pytest.raises(ValueError, match=r"gen\.mp4 has 23 frames.*24"):
        analyse_background(frames[:-1], truth, name="gen.mp4")
    with pytest.raises(ValueError, match=r"gen\.mp4 is 128x256"):
        analyse_background(np.ascontiguousarray(frames[:, :, :128]), truth, name="gen.mp4")
    with pytest.raises(ValueError, match="width"):
        load_background_truth(ground_truth_path(video), width=100)
    # Through the harness: the generated file is named; a reference without ground truth is named too.
    pred, ref = tmp_path / "pred", tmp_path / "ref"
    pred.mkdir(), ref.mkdir()
    from curation.video.encode import write_mp4

    write_mp4(pred / video.name, frames[:-2], 24.0)
    shutil.copyfile(video, ref / video.name)
    shutil.copyfile(ground_truth_path(video), ground_truth_path(ref / video.name))
    options = ScoreOptions(protocol=get_protocol("bd16"), metrics=("bg-track",))
    with pytest.raises(ValueError, match=f"{pred / video.name} has 22 frames"):
        score(pred, ref, options)
    ground_truth_path(ref / video.name).unlink()
    with pytest.raises(FileNotFoundError, match=r"\.gt\.npz"):
        score(pred, ref, options)


def test_protocol_resolution_scales_the_ground_truth(reference):
    video = sorted(reference.glob("*.mp4"))[1]  # pan_left
    frames = read_video(video)
    truth = load_background_truth(ground_truth_path(video), width=frames.shape[2])
    suite = BackgroundSuite(Protocol("bg128", pixel_resolution=128), metrics=("bg-track", "bg-camera-translation"))
    analysis = suite.update(frames, truth, key="k")
    assert analysis.track_epe < 1.0 and analysis.camera_translation < 0.3  # measured ~0.57 and ~0.14 px at 128
    native = analyse_background(frames, truth)
    assert 0.45 < analysis.motion_reference / native.motion_reference < 0.55
    # The stateless function gives what one suite update gives.
    values = background_suite([frames], [truth], keys=[video.stem])
    assert values["bg-track"] == native.track_epe and values["bg-camera"] == native.camera_corner
    assert values["bg-dynamics"] == native.dynamics


def test_the_metrics_share_one_analysis_per_sample_and_agree_with_the_stateless_function(reference, monkeypatch):
    videos = sorted(reference.glob("*.mp4"))[:2]
    frames = [read_video(v) for v in videos]
    truths = [
        load_background_truth(ground_truth_path(v), width=f.shape[2]) for v, f in zip(videos, frames, strict=True)
    ]
    calls = []
    real_analyse = suite.analyse_background
    monkeypatch.setattr(suite, "analyse_background", lambda *a, **kw: calls.append(1) or real_analyse(*a, **kw))
    protocol = get_protocol("bd16")
    metrics = [metric_class(name)(protocol) for name in SUITE_METRICS]
    for video, f, truth in zip(videos, frames, truths, strict=True):
        sample = Sample(video.stem, pred=f, ref=f, truth=truth)
        for m in metrics:
            m.update(sample)
    assert len(calls) == 2  # one analysis per video, shared by the eight metrics
    values = background_suite(frames, truths, keys=[v.stem for v in videos])
    assert {m.name: m.compute() for m in metrics} == pytest.approx(values, rel=1e-15, nan_ok=True)
    with pytest.raises(ValueError, match="has no truth"):
        metrics[0].update(Sample("x", pred=frames[0]))
    with pytest.raises(TypeError, match="BackgroundTruth"):
        metrics[0].update(Sample("x", pred=frames[0], truth="gt.npz"))
    with pytest.raises(ValueError, match=r"ref\.mp4 has 23 frames"):  # the reference is checked against its truth
        metrics[0].update(Sample("x", pred=frames[0], ref=frames[0][:-1], truth=truths[0], ref_name="ref.mp4"))


def test_first_frame_alignment_measures_an_offset_first_frame(reference):
    """`bg-first-frame`: the truth's frame-0 background points tracked from the reference's first frame into the
    generated one. The reference itself scores ~0; a first frame translated by (6, 3) px scores ~6.7 px, which the
    suite's other metrics (motion from each video's own frame 0) cannot see."""
    video = sorted(reference.glob("*.mp4"))[1]
    frames = read_video(video)
    truth = load_background_truth(ground_truth_path(video), width=frames.shape[2])
    shift = np.array([[1.0, 0.0, 6.0], [0.0, 1.0, 3.0]])
    moved = np.stack([cv2.warpAffine(f, shift, f.shape[1::-1], borderMode=cv2.BORDER_REFLECT) for f in frames])
    metric = metric_class("bg-first-frame")(get_protocol("bd16"))
    same = metric.update(Sample("same", pred=frames, ref=frames, truth=truth))
    offset = metric.update(Sample("moved", pred=moved, ref=frames, truth=truth))
    assert same < 0.05
    assert offset == pytest.approx(np.hypot(6.0, 3.0), rel=0.1)
    assert metric.unit == "px" and metric.higher_is_better is False
    with pytest.raises(ValueError, match="has no ref"):
        metric.update(Sample("x", pred=frames, truth=truth))
