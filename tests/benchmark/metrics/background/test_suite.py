"""The background suite's metrics: state algebra (merged halves equal the whole), input checks naming the input,
the protocol's resolution, and the stateless function."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from benchmark.metrics.background.analysis import VideoBackground, analyse_background
from benchmark.metrics.background.suite import BackgroundSuite, background_suite
from benchmark.metrics.background.truth import ground_truth_path, load_background_truth
from benchmark.protocol import BACKGROUND_METRICS, Protocol, get_protocol
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
            m.update(a, key=key)
        for m in (first if i < 3 else second).metrics:
            m.update(a, key=key)
    first.merge(second)
    assert first.compute() == pytest.approx(whole.compute(), rel=1e-15)
    for a, b in zip(first.metrics, whole.metrics, strict=True):
        assert a.n == b.n and a.per_video == b.per_video and a.extra() == b.extra()
    assert set(whole.compute()) == set(BACKGROUND_METRICS)
    with pytest.raises(ValueError, match="v3"):
        first.merge(second)  # the same videos twice
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
