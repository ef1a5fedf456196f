"""Decoding: constant-rate resampling, variable frame rate, rotation, windows, errors."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from curation.video.decode import DecodeError, iter_resampled, iter_windows, probe_video, rotate_frame
from curation.video.encode import write_mp4


def _numbered(count: int, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """Frames whose mean grey level encodes their index (robust to compression)."""
    return [np.full((size[1], size[0], 3), 10 + 20 * i, np.uint8) for i in range(count)]


def _index_of(rgb: np.ndarray) -> int:
    return round((float(rgb.mean()) - 10) / 20)


def test_resample_halves_and_keeps_rate(tmp_path):
    path = tmp_path / "a.mp4"
    write_mp4(path, _numbered(12), fps=24)
    same = [_index_of(f.rgb) for f in iter_resampled(path)]
    assert same == list(range(12))
    half = list(iter_resampled(path, fps=12))
    assert [_index_of(f.rgb) for f in half] == list(range(0, 12, 2))
    assert [f.time_s for f in half] == pytest.approx([k / 12 for k in range(6)])
    double = [_index_of(f.rgb) for f in iter_resampled(path, fps=48)]
    assert double == [i // 2 for i in range(24)]


def test_variable_frame_rate_becomes_constant(tmp_path):
    path = tmp_path / "vfr.mp4"
    # Frames at t = 0, 0.1, 0.2, then a gap to 0.5, 0.6 (time base 1/10 s).
    times = [0, 1, 2, 5, 6]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 10)
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(_numbered(5)[i], format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    frames = list(iter_resampled(path, fps=10))
    shown = [_index_of(f.rgb) for f in frames]
    assert shown == [0, 1, 2, 2, 2, 3, 4]  # the gap is filled by repeating the last frame
    assert [f.source_index for f in frames] == shown  # decode order, not time x average rate


def test_rotation_and_probe(tmp_path):
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = 255
    rotated = rotate_frame(image, 90)
    assert rotated.shape == (3, 2, 3) and rotated[0, 1, 0] == 255  # top-left goes to top-right clockwise
    assert rotate_frame(image, 0) is image
    with pytest.raises(ValueError):
        rotate_frame(image, 45)
    path = tmp_path / "b.mp4"
    write_mp4(path, _numbered(5), fps=25)
    info = probe_video(path)
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.average_fps == pytest.approx(25)


def test_windows_are_bounded(tmp_path):
    path = tmp_path / "c.mp4"
    write_mp4(path, _numbered(10), fps=24)
    windows = list(iter_windows(iter_resampled(path), 4))
    assert [len(w) for w in windows] == [4, 4, 2]
    with pytest.raises(ValueError):
        list(iter_windows([], 0))


def test_bad_inputs(tmp_path):
    with pytest.raises(DecodeError):
        probe_video(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(DecodeError):
        list(iter_resampled(junk))
    with pytest.raises(ValueError):
        list(iter_resampled(junk, fps=0))
