"""The one video reader: a file path or an mp4 held in memory to RGB frames, with the display rotation applied.

Used by the source stage (probing, resampling, windows), by scoring (`read_video`) and by the shard reader (the `mp4`
member's bytes). Frames are produced one at a time from PyAV's decoder, so memory holds at most one window of frames
whatever the video's length. Resampling is by presentation time, not by frame count, so a variable-frame-rate source
comes out at a constant rate: output frame k is the source frame whose timestamp is nearest to k / target_fps (a
duplicated frame where the source is sparse, a dropped one where it is dense). Nearest, not "last at or before":
Matroska and WebM round timestamps to milliseconds, and a frame 0.3 ms late must still be the frame of its time.

Damage is reported, not hidden: a packet the decoder refuses, or a frame it marks corrupt, makes the frames shown
around it `damaged`, and `DecodeReport` keeps what the decoder said.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TypeAlias

import av
import numpy as np

from curation.video.timestamps import RATE_PACKETS, choose_rate, rate_from_timestamps

#: A video file's path, or a whole video file held in memory (a shard's `mp4` member).
VideoSource: TypeAlias = str | os.PathLike | bytes


class DecodeError(ValueError):
    """The file cannot be decoded as a video (missing, not a container, no video stream, no frames)."""


def source_name(source: VideoSource) -> str:
    """How a source is named in messages: its path, or the size of the bytes."""
    return f"<{len(source)} bytes of video>" if isinstance(source, bytes) else os.fspath(source)


@dataclass(frozen=True)
class VideoInfo:
    """What a probe learns without decoding every frame. `width`/`height` are after rotation (display size)."""

    path: str
    width: int
    height: int
    rotation: int  # clockwise degrees to apply for display: 0, 90, 180 or 270
    average_fps: float
    duration_s: float
    frame_count: int  # as the container reports it (0 when unknown)
    codec: str


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # output frame index at the target rate
    time_s: float  # the output frame's time, index / fps
    source_time_s: float  # timestamp of the source frame shown
    rgb: np.ndarray  # [H, W, 3] uint8, rotated for display
    source_index: int = -1  # decode-order index of the source frame shown (what per-frame sidecars are indexed by)
    damaged: bool = False  # the source frame shown is corrupt, or stands in for frames the decoder could not decode


@dataclass
class DecodeReport:
    """What went wrong while decoding a source, for the records of the clips it touched."""

    errors: list[str] = field(default_factory=list)  # the decoder's messages, in order

    @property
    def summary(self) -> str:
        if not self.errors:
            return ""
        first = self.errors[0]
        more = f" and {len(self.errors) - 1} more" if len(self.errors) > 1 else ""
        return f"{first}{more}"


#: Decoding errors after which a source is given up (a file that is mostly garbage, not a damaged stretch).
MAX_DECODE_ERRORS = 50


def _rotation_of(stream: av.video.stream.VideoStream) -> int:
    """Clockwise display rotation from the stream's metadata (`rotate` tag of older muxers, display matrix)."""
    tag = stream.metadata.get("rotate")
    if tag is not None:
        try:
            return int(tag) % 360
        except ValueError:
            return 0
    return 0


def _frame_rotation(frame: av.VideoFrame, fallback: int) -> int:
    # PyAV >= 13 exposes the display matrix as `frame.rotation` (counter-clockwise degrees).
    rotation = getattr(frame, "rotation", None)
    if rotation is None:
        return fallback
    return int(-rotation) % 360


def _first_frame_rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """The display matrix's rotation, which current muxers store as side data and PyAV exposes only on frames:
    without it a rotated phone video would be probed at its coded size and resized out of proportion."""
    try:
        for frame in container.decode(stream):
            return _frame_rotation(frame, 0)
    except (av.FFmpegError, ValueError):
        pass  # an undecodable stream is reported by the decoder with its own reason
    return 0


def rotate_frame(rgb: np.ndarray, clockwise_deg: int) -> np.ndarray:
    """Rotate an image by a multiple of 90 degrees clockwise."""
    if clockwise_deg % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {clockwise_deg}")
    turns = (clockwise_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=-turns)) if turns else rgb


#: Leading bytes of the containers most often met, so an unopenable file can be told apart: a known container that
#: does not open is damaged (typically cut short), anything else is not a video at all.
_SIGNATURES = (
    (4, b"ftyp", "an MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM"),
    (0, b"RIFF", "an AVI"),
    (0, b"FLV", "an FLV"),
    (0, b"\x00\x00\x01\xba", "an MPEG-PS"),
)


def _unopenable_reason(source: VideoSource, error: av.FFmpegError) -> str:
    if isinstance(source, bytes):
        head = source[:16]
    else:
        with open(source, "rb") as handle:
            head = handle.read(16)
    name = source_name(source)
    detail = getattr(error, "strerror", None) or str(error)  # without the errno and the path FFmpeg repeats
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return f"{name}: {kind} file that cannot be opened, probably truncated or corrupt ({detail})"
    return f"{name}: not a video container ({detail})"


def _open(source: VideoSource) -> av.container.InputContainer:
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise DecodeError(f"{source}: no such file")
    try:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except av.FFmpegError as error:
        raise DecodeError(_unopenable_reason(source, error)) from error
    if not container.streams.video:
        container.close()
        raise DecodeError(f"{source_name(source)}: no video stream")
    return container


def _measured_rate(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    """The rate of the first `RATE_PACKETS` packets' presentation times (demuxed only)."""
    time_base = stream.time_base or Fraction(1, 1000)
    times = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                times.append(float(packet.pts * time_base))
            if len(times) >= RATE_PACKETS:
                break
    except av.FFmpegError:
        pass  # a damaged file: the rate of what could be read, and the decoder reports the damage
    return rate_from_timestamps(times)


def probe_video(path: VideoSource) -> VideoInfo:
    """Read a video's size, rotation, frame rate (from its timestamps, `curation.video.timestamps`), duration and
    codec."""
    with _open(path) as container:
        stream = container.streams.video[0]
        rotation = _rotation_of(stream)
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        width, height = stream.codec_context.width, stream.codec_context.height
        stated = (stream.average_rate, stream.guessed_rate)
        fps = choose_rate((float(r) if r else None for r in stated), _measured_rate(container, stream)) or 0.0
        container.seek(0)
        if rotation == 0:
            rotation = _first_frame_rotation(container, stream)
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(
            source_name(path),
            width,
            height,
            rotation,
            fps,
            duration,
            int(stream.frames or 0),
            stream.codec_context.name,
        )


def iter_resampled(
    path: VideoSource, fps: float | None = None, report: DecodeReport | None = None
) -> Iterator[DecodedFrame]:
    """Stream a video's frames at a constant `fps` (None: the source's rate), rotated for display.

    A packet the decoder refuses is recorded in `report` and decoding goes on; frames around it are `damaged`.
    Raises DecodeError when the file cannot be opened, yields no frame, or fails more than MAX_DECODE_ERRORS times.
    """
    if fps is not None and (not np.isfinite(fps) or fps <= 0):
        raise ValueError(f"target fps must be positive, got {fps}")
    report = report if report is not None else DecodeReport()
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fallback_rotation = _rotation_of(stream)
        header = float(stream.average_rate or stream.guessed_rate or 0) or None
        rate = fps or header or 25.0
        time_base = stream.time_base or Fraction(1, 1000)
        start: float | None = None
        # The latest source frame not yet past the next output time: (time, decode-order index, frame, damaged).
        pending: tuple[float, int, av.VideoFrame, bool] | None = None
        index = 0
        decoded = 0
        after_error = False
        intervals: list[float] = []
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError as error:
                report.errors.append(f"{error}")
                if len(report.errors) > MAX_DECODE_ERRORS:
                    raise DecodeError(
                        f"{source_name(path)}: more than {MAX_DECODE_ERRORS} decoding errors, last: {error}"
                    ) from error
                after_error = True
                if pending is not None:  # it will stand in for the frames that were lost
                    pending = (*pending[:3], True)
                continue
            for frame in frames:
                pts = frame.pts if frame.pts is not None else frame.dts
                t = float(pts * time_base) if pts is not None else (decoded / rate)
                if start is None:
                    start = t
                t -= start
                # Output times nearer the pending (previous) frame than this one show the pending frame (a time
                # exactly between the two shows the earlier one).
                while pending is not None and index / rate <= (pending[0] + t) / 2 + 1e-9:
                    yield _emit(index, rate, pending, fallback_rotation)
                    index += 1
                if pending is not None and t > pending[0]:
                    intervals.append(t - pending[0])
                damaged = after_error or bool(getattr(frame, "is_corrupt", False))
                if damaged and not after_error:
                    report.errors.append(f"frame {decoded} marked corrupt by the decoder")
                pending = (t, decoded, frame, damaged)
                after_error = False
                decoded += 1
        if pending is None:
            detail = f": {report.summary}" if report.errors else ""
            raise DecodeError(f"{source_name(path)}: no decodable video frames{detail}")
        # The last source frame is shown for one source interval; output times in the last quarter of it are left
        # out, so timestamps rounded up by a millisecond do not add a frame.
        interval = float(np.median(intervals)) if intervals else 1.0 / (header or rate)
        end = pending[0] + 0.75 * interval
        while index / rate < end:
            yield _emit(index, rate, pending, fallback_rotation)
            index += 1


def _emit(
    index: int, rate: float, pending: tuple[float, int, av.VideoFrame, bool], fallback_rotation: int
) -> DecodedFrame:
    source_t, source_index, frame, damaged = pending
    rgb = rotate_frame(frame.to_ndarray(format="rgb24"), _frame_rotation(frame, fallback_rotation))
    return DecodedFrame(index, index / rate, source_t, rgb, source_index, damaged)


def iter_frames(source: VideoSource) -> Iterator[np.ndarray]:
    """Every frame of the first video stream, in decode order, as RGB uint8 [H, W, 3] rotated for display.

    No resampling: frame t of the result is the t-th decoded frame (what scoring compares and shards store).
    Raises DecodeError when the source cannot be opened or yields no frame.
    """
    with _open(source) as container:
        stream = container.streams.video[0]
        fallback_rotation = _rotation_of(stream)
        count = 0
        try:
            for frame in container.decode(stream):
                count += 1
                yield rotate_frame(frame.to_ndarray(format="rgb24"), _frame_rotation(frame, fallback_rotation))
        except av.FFmpegError as error:
            raise DecodeError(f"{source_name(source)}: decoding failed after {count} frames: {error}") from error
    if count == 0:
        raise DecodeError(f"{source_name(source)}: no decodable video frames")


def read_video(source: VideoSource) -> np.ndarray:
    """All frames as uint8 [T, H, W, 3] (`iter_frames` stacked): for clips; long videos stream with `iter_frames`,
    `iter_resampled` or `iter_windows` instead."""
    return np.stack(list(iter_frames(source)))


def iter_windows(frames: Iterable[DecodedFrame], length: int) -> Iterator[list[DecodedFrame]]:
    """Group a frame stream into consecutive windows of `length` frames (the last one may be shorter)."""
    if length < 1:
        raise ValueError(f"window length must be at least 1, got {length}")
    window: list[DecodedFrame] = []
    for frame in frames:
        window.append(frame)
        if len(window) == length:
            yield window
            window = []
    if window:
        yield window
