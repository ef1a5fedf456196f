"""A corpus of bad and odd inputs through `backdrop curate`: every file ends as manifest rows with a clear reason
naming it (or, for the odd but valid ones, correct clips), and the good videos' samples are those of a run alone."""

from __future__ import annotations

import io
import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import read_ground_truth, write_corpus
from curation.video.encode import write_mp4
from curation.video.reader import read_video
from jobs.cli import cli
from tests.helpers.jobs import shard_contents, shard_samples
from tests.helpers.videos import encode, panning_frames, rotate_display_matrix

#: A small max_source_side stands in for 8K: the "huge" video only needs to pass it, not to be 8K.
BAD_CONFIG = {"clips": {"frames": 24, "short_side": 128, "fps": 24.0, "max_source_side": 200}, "quality": {"pyiqa": []}}
GOOD_NAME = "good vidéo 名前 #1.mp4"  # spaces, non-ASCII, a '#'


def read_mp4_bytes(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as clip:
        return np.stack([f.to_ndarray(format="rgb24") for f in clip.decode(video=0)])


def _write_vfr(path: Path, frames: np.ndarray, times_s: list[float]) -> None:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for rgb, t in zip(frames, times_s, strict=True):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _write_audio_only(path: Path) -> None:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = (0.1 * np.sin(np.linspace(0, 400, 16000))).astype(np.float32)[None]
        for start in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(samples[:, start : start + 1024].copy(), format="fltp", layout="mono")
            frame.sample_rate = 16000
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module")
def bad_corpus(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-corpus")
    odd = tmp_path_factory.mktemp("odd-synth")
    # Portrait clips of 48 frames: the source of the rotated and the variable-rate videos (with their keypoints).
    written = write_corpus(
        2, odd, seed=5, config=SynthConfig(width=96, height=128, frames=48, fps=24.0, grid_step=8), workers=2
    )
    corpus = root / "corpus"
    corpus.mkdir()
    good = sorted(tiny_corpus.glob("*.mp4"))[:3]
    shutil.copy(good[0], corpus / "good.mp4")
    shutil.copy(good[0].with_suffix(".gt.npz"), corpus / "good.gt.npz")
    shutil.copy(good[1], corpus / GOOD_NAME)
    shutil.copy(good[1].with_suffix(".gt.npz"), corpus / GOOD_NAME.replace(".mp4", ".gt.npz"))
    (corpus / "empty.mp4").write_bytes(b"")
    whole = good[0].read_bytes()
    (corpus / "truncated.mp4").write_bytes(whole[: len(whole) // 2])
    (corpus / "notes.mp4").write_text("these are meeting notes, not a video\n" * 20)
    _write_audio_only(corpus / "audio only.mp4")
    write_mp4(corpus / "one frame.mp4", [read_video(good[0])[0]], fps=24)
    write_mp4(corpus / "huge.mp4", [np.zeros((208, 256, 3), np.uint8)] * 4, fps=24, crf=51)
    # Rotated: coded landscape (128x96), displayed portrait (96x128) after a 90-degree clockwise turn.
    portrait = read_video(Path(written[0].video))
    shutil.copy(written[0].video, root / "portrait.mp4")
    write_mp4(corpus / "rotated.mp4", [np.ascontiguousarray(np.rot90(f, k=1)) for f in portrait], fps=24)
    rotate_display_matrix(corpus / "rotated.mp4")
    keypoints = read_ground_truth(Path(written[0].video).with_suffix(".gt.npz"))["keypoints"]
    np.save(corpus / "rotated.pose.npy", keypoints, allow_pickle=False)
    # Variable rate: 20 frames at 30 fps, then 20 at 15 fps (2.0 s: 48 frames at the 24 fps output).
    times = [i / 30 for i in range(20)] + [20 / 30 + i / 15 for i in range(20)]
    _write_vfr(corpus / "vfr.mp4", read_video(Path(written[1].video))[:40], times)
    keypoints = read_ground_truth(Path(written[1].video).with_suffix(".gt.npz"))["keypoints"]
    np.save(corpus / "vfr.pose.npy", keypoints[:40], allow_pickle=False)
    # Damaged in the middle: garbage over some bytes of the second half of a 48-frame video's data.
    damaged = bytearray(Path(written[1].video).read_bytes())
    at = damaged.find(b"mdat") + (len(damaged) - damaged.find(b"mdat")) * 3 // 4
    damaged[at : at + 300] = np.random.default_rng(0).integers(0, 256, 300, np.uint8).tobytes()
    (corpus / "damaged.mp4").write_bytes(bytes(damaged))
    shutil.copy(Path(written[1].video).with_suffix(".gt.npz"), corpus / "damaged.gt.npz")
    (corpus / "broken link.mp4").symlink_to(corpus / "gone.mp4")
    write_mp4(corpus / "tiny.mp4", [np.full((16, 16, 3), 90, np.uint8)] * 30, fps=24)
    # Web video: a camera panning in VP9 WebM at 24 fps (millisecond timestamps), and an animated GIF at 10 fps.
    pan = panning_frames(48)
    (corpus / "pan.webm").write_bytes(encode(pan, "libvpx-vp9", "webm"))
    _write_gif(corpus / "animated.gif", pan[:24])
    # The same bytes twice: the copy named first has no sidecar, the other has one (and is the one to keep).
    shutil.copy(good[2], corpus / "a copy.mp4")
    shutil.copy(good[2], corpus / "b copy.mp4")
    shutil.copy(good[2].with_suffix(".gt.npz"), corpus / "b copy.gt.npz")
    (root / "config.yaml").write_text(yaml.safe_dump(BAD_CONFIG))
    return root


def _write_gif(path: Path, frames: np.ndarray) -> None:
    with av.open(str(path), "w", format="gif") as container:
        stream = container.add_stream("gif", rate=10)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "rgb8"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="rgb8")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _curate(sources: list[Path], out: Path, config: Path, engine: str = "sequential") -> str:
    arguments = [
        "curate",
        *map(str, sources),
        "--out",
        str(out),
        "--config",
        str(config),
        "--engine",
        engine,
        "--test-fraction",
        "0",
        "--shard-mb",
        "1",
    ]
    if engine == "ray":
        arguments += ["--num-cpus", "2", "--object-store-mb", "100"]
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


#: Valid inputs as the web has them -> clips expected: 48 frames of a VP9 WebM at 24 fps, 24 GIF frames at 10 fps.
ODD_BUT_VALID = {"pan.webm": 2, "animated.gif": 2}

#: file name -> words its failed row's reason must hold (besides the file's path).
EXPECTED_FAILURES = {
    "empty.mp4": "empty file (0 bytes)",
    "truncated.mp4": "an MP4/MOV file that cannot be opened, probably truncated or corrupt",
    "notes.mp4": "not a video container (Invalid data found",
    "audio only.mp4": "no video stream",
    "one frame.mp4": "no clip of 24 frames",
    "huge.mp4": "resolution 256x208 exceeds clips.max_source_side=200",
    "tiny.mp4": "resolution 16x16 is below clips.min_source_side=64",
    "broken link.mp4": "broken symbolic link to",
}


def _check_manifest(out: Path, corpus: Path) -> pd.DataFrame:
    manifest = pd.read_parquet(out / "manifest.parquet")
    assert manifest["key"].is_unique
    by_name = {
        name: manifest[manifest["source"] == str(corpus / name)]
        for name in [*EXPECTED_FAILURES, "good.mp4", GOOD_NAME, "rotated.mp4", "vfr.mp4"]
    }
    for name, words in EXPECTED_FAILURES.items():
        rows = by_name[name]
        assert len(rows) == 1, (name, manifest[["source", "status", "reason"]])
        row = rows.iloc[0]
        assert row.status == "failed" and row.stage == "decode", (name, row.reason)
        assert str(corpus / name) in row.reason and words in row.reason, (name, row.reason)
    for name in ("good.mp4", GOOD_NAME, "rotated.mp4", "vfr.mp4"):
        rows = by_name[name]
        assert len(rows) >= 1 and (rows["status"] != "failed").all(), (name, rows[["status", "stage", "reason"]])
    assert len(by_name["vfr.mp4"]) == 2  # 2.0 s at a constant 24 fps: two clips of 24 frames
    rows = {name: manifest[manifest["source"] == str(corpus / name)] for name in ODD_BUT_VALID}
    for name, clips in ODD_BUT_VALID.items():  # curated (kept or rejected by a filter), never failed at decoding
        assert len(rows[name]) == clips and (rows[name]["status"] != "failed").all(), (name, rows[name])
    damaged = manifest[manifest["source"] == str(corpus / "damaged.mp4")]
    hurt = damaged[damaged["reason"].fillna("").str.contains("damaged source frames")]
    assert len(hurt) >= 1 and (hurt["status"] == "rejected").all() and (hurt["stage"] == "decode").all(), damaged
    assert "Invalid data" in hurt.iloc[0].reason
    copies = {name: manifest[manifest["source"] == str(corpus / name)] for name in ("a copy.mp4", "b copy.mp4")}
    assert len(copies["a copy.mp4"]) == 1, copies
    left_out = copies["a copy.mp4"].iloc[0]
    assert left_out.status == "rejected" and f"same content as {corpus / 'b copy.mp4'}" in left_out.reason
    assert "pose sidecar" in left_out.reason
    assert (copies["b copy.mp4"]["status"] != "failed").all() and len(copies["b copy.mp4"]) >= 1
    return manifest


@pytest.mark.slow
def test_bad_inputs_end_as_reasons_and_spare_the_good(bad_corpus: Path, tmp_path: Path) -> None:
    corpus, config = bad_corpus / "corpus", bad_corpus / "config.yaml"
    out = tmp_path / "all"
    output = _curate([corpus], out, config)
    manifest = _check_manifest(out, corpus)
    assert "empty file (0 bytes)" in " ".join(output.split())  # the summary table shows the reasons
    samples = shard_samples(out)
    # Rotated: clips at the display size (portrait 96x128, short side resized to 128); variable rate: constant
    # 24 fps, frames evenly spaced.
    for name, (width, height) in (("rotated.mp4", (128, 172)), ("vfr.mp4", (128, 172))):
        for key in manifest.loc[manifest["source"] == str(corpus / name), "key"]:
            meta = json.loads(samples[key]["json"])
            assert (meta["width"], meta["height"]) == (width, height) and meta["fps"] == 24.0, (name, meta)
            with av.open(io.BytesIO(samples[key]["mp4"])) as clip:
                stream = clip.streams.video[0]
                pts = [frame.pts for frame in clip.decode(stream)]
                assert len(pts) == 24 and len(set(np.diff(pts))) == 1, (name, pts)
                assert stream.average_rate == 24
    rotated = manifest.loc[manifest["source"] == str(corpus / "rotated.mp4"), "key"].iloc[0]
    shown = read_mp4_bytes(samples[rotated]["mp4"])[0].astype(float)
    upright = cv2.resize(read_video(bad_corpus / "portrait.mp4")[0], (128, 172), interpolation=cv2.INTER_AREA)
    assert np.abs(shown - upright).mean() < 8  # turned the right way, not mirrored or upside down
    # The good videos' samples are byte for byte those of a run of them alone.
    alone = tmp_path / "alone"
    _curate([corpus / "good.mp4", corpus / GOOD_NAME], alone, config)
    alone_samples = shard_samples(alone)
    assert alone_samples and all(samples[key] == members for key, members in alone_samples.items())
    assert set(shard_contents(alone)) <= set(shard_contents(out))


@pytest.mark.slow
def test_bad_inputs_on_ray(bad_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray")
    import ray

    corpus = bad_corpus / "corpus"
    out = tmp_path / "ray"
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    try:
        _curate([corpus], out, bad_corpus / "config.yaml", engine="ray")
    finally:
        if ray.is_initialized():
            ray.shutdown()
    _check_manifest(out, corpus)
