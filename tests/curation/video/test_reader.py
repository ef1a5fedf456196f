"""The one video reader: constant-rate resampling, variable frame rate, rotation, windows, bytes, errors."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from curation.video.encode import write_mp4
from curation.video.reader import (
    DecodeError,
    iter_frames,
    iter_resampled,
    iter_windows,
    probe_video,
    read_video,
    rotate_frame,
)
from tests.helpers.videos import rotate_display_matrix


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
    assert shown == [0, 1, 2, 2, 3, 3, 4]  # the gap is filled by the frame nearest in time
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


def test_path_and_bytes_read_the_same_frames(tmp_path):
    path = tmp_path / "d.mp4"
    write_mp4(path, _numbered(6), fps=24)
    from_path = read_video(path)
    from_bytes = read_video(path.read_bytes())
    assert from_path.shape == (6, 48, 64, 3) and from_path.dtype == np.uint8
    np.testing.assert_array_equal(from_path, from_bytes)
    assert [_index_of(f) for f in from_path] == list(range(6))
    resampled = np.stack([f.rgb for f in iter_resampled(path.read_bytes())])
    np.testing.assert_array_equal(resampled, from_path)  # a constant-rate file at its own rate: the same frames


def test_display_rotation_is_honoured_everywhere(tmp_path):
    portrait = np.zeros((64, 48, 3), np.uint8)  # displayed 48 wide, 64 high
    portrait[:8, :8] = 255  # a white block at the displayed top-left
    coded = np.ascontiguousarray(np.rot90(portrait, k=1))  # stored landscape, turned back for display
    path = tmp_path / "rotated.mp4"
    write_mp4(path, [coded] * 3, fps=24)
    rotate_display_matrix(path)
    assert (probe_video(path).width, probe_video(path).height, probe_video(path).rotation) == (48, 64, 90)
    for frames in (read_video(path), read_video(path.read_bytes()), np.stack([f.rgb for f in iter_resampled(path)])):
        assert frames.shape == (3, 64, 48, 3)
        assert frames[:, :8, :8].mean() > 200 and frames[:, -8:, -8:].mean() < 50


def test_bad_bytes_and_empty_streams_are_named(tmp_path):
    with pytest.raises(DecodeError, match="bytes of video>: not a video container"):
        read_video(b"definitely not a video" * 4)
    truncated = tmp_path / "t.mp4"
    write_mp4(truncated, _numbered(6), fps=24)
    with pytest.raises(DecodeError, match="MP4/MOV file that cannot be opened"):
        list(iter_frames(truncated.read_bytes()[:200]))
