"""Inputs as users have them: one clip muxed as mp4, mkv, webm and mov decodes to the same frames; Matroska/WebM's
millisecond timestamps at 24 fps neither duplicate nor drop frames (a moving camera then shows no false cut); the
rate comes from the timestamps when a header claims another."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from curation.config import config_from_dict
from curation.stages import DecodeStage
from curation.video.reader import iter_resampled, probe_video
from curation.video.timestamps import choose_rate, rate_from_timestamps
from tests.helpers.videos import encode, panning_frames


def remux(data: bytes, fmt: str, path: Path) -> Path:
    """The same packets in another container (no re-encoding: the decoded frames must be identical)."""
    with av.open(io.BytesIO(data)) as source, av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return path


def resampled(path: Path) -> tuple[np.ndarray, list[int], float]:
    info = probe_video(path)
    frames = list(iter_resampled(path, info.average_fps))
    return np.stack([f.rgb for f in frames]), [f.source_index for f in frames], info.average_fps


@pytest.fixture(scope="module")
def pan() -> np.ndarray:
    return panning_frames(48)


def test_one_clip_in_every_container_gives_the_same_frames(pan: np.ndarray, tmp_path: Path) -> None:
    h264 = encode(pan, "libx264", "mp4")
    vp9 = encode(pan, "libvpx-vp9", "webm")
    # mov takes H.264 but not VP9 here, webm takes VP9 only: each codec's packets go into every container it fits.
    groups = {
        "h264": [
            remux(h264, fmt, tmp_path / f"h264.{ext}")
            for fmt, ext in (("mp4", "mp4"), ("matroska", "mkv"), ("mov", "mov"))
        ],
        "vp9": [
            remux(vp9, fmt, tmp_path / f"vp9.{ext}")
            for fmt, ext in (("webm", "webm"), ("matroska", "mkv"), ("mp4", "mp4"))
        ],
    }
    for codec, paths in groups.items():
        reference, indices, fps = resampled(paths[0])
        assert fps == 24.0 and indices == list(range(48)), (paths[0].name, fps, indices)
        for path in paths[1:]:
            frames, other, other_fps = resampled(path)
            assert other_fps == 24.0 and other == indices, (path.name, other_fps, other)
            np.testing.assert_array_equal(frames, reference, err_msg=path.name)
        # ...and they are the clip's frames in order: each decoded frame is nearest the source frame of its index.
        distance = np.abs(reference[:, None].astype(np.int16) - pan[None]).mean(axis=(2, 3, 4))
        assert list(distance.argmin(axis=1)) == list(range(48)), codec


def test_a_panning_webm_at_24_fps_is_one_clip_with_no_false_cut(pan: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "pan.webm"
    path.write_bytes(encode(pan, "libvpx-vp9", "webm"))
    config = config_from_dict({"clips": {"frames": 48, "short_side": 96}, "pose": {"backend": "mediapipe"}})
    records = list(DecodeStage(config, raise_errors=True)(str(path)))
    assert [r["status"] for r in records] == ["ok"], [r.get("reason") for r in records]
    assert list(records[0]["source_frames"]) == list(range(48))  # no frame duplicated, none dropped


def test_the_rate_comes_from_the_timestamps_when_the_header_claims_another(pan: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "claims-1000.mkv"
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=1000)  # the header's rate; the frames are 1/24 s apart
        stream.width, stream.height, stream.pix_fmt = pan.shape[2], pan.shape[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 24)
        for index, rgb in enumerate(pan):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 24)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with av.open(str(path)) as container:
        assert float(container.streams.video[0].average_rate) == 1000  # the lie is really in the header
    config = config_from_dict({"clips": {"frames": 24, "short_side": 96}, "pose": {"backend": "mediapipe"}})
    records = list(DecodeStage(config, raise_errors=True)(str(path)))
    assert [(r["status"], r["fps"], len(r["frames"])) for r in records] == [("ok", 24.0, 24)] * 2


def test_rate_rules() -> None:
    ms = [round(k * 1000 / 24) / 1000 for k in range(100)]  # millisecond timestamps at 24 fps
    assert rate_from_timestamps(reversed(ms)) == pytest.approx(24.0, rel=1e-3)
    assert choose_rate([1000.0], rate_from_timestamps(ms)) == 24.0  # the header disagrees: measured, snapped
    assert choose_rate([30000 / 1001], 29.98) == 30000 / 1001  # the header agrees: its exact value
    assert choose_rate([25.0], None) == 25.0
    assert choose_rate([], 17.3) == 17.3
    assert rate_from_timestamps([1.0]) is None
