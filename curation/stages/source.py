"""The source stage: one video in, its clips out (a flat map), streamed in bounded memory.

A source that cannot be read, probed or decoded, or that yields no clip, becomes one failed record whose reason
names the file and the problem; clips already handed out before a decoding error stay valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import ClassVar

import av
import numpy as np

from curation.hashing import file_sha256
from curation.person.pose_choice import source_pose_problem
from curation.record import OK, REJECTED, Record, clip_key, failed_source, source_id_of
from curation.resources import Resources
from curation.stages.base import SourceStage
from curation.video.clipping import clip_size, iter_shot_clips, resized_frames
from curation.video.reader import DecodedFrame, DecodeError, DecodeReport, iter_resampled, probe_video


class DecodeStage(SourceStage):
    """Probe, decode at a constant rate, split into shots and cut clips, resized to the clip size."""

    name: ClassVar[str] = "decode"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.5)

    @property
    def backend(self) -> str:
        return f"pyav {av.__version__}"

    def clips(self, source: str) -> Iterator[Record]:
        if os.path.islink(source) and not os.path.exists(source):
            yield failed_source(source, self.name, f"{source}: broken symbolic link to {os.readlink(source)}")
            return
        try:
            sha256 = file_sha256(source)
        except OSError as error:
            yield failed_source(source, self.name, f"{source}: cannot read the file: {error.strerror or error}")
            return
        try:
            yield from self._clips(source, sha256)
        except Exception as error:
            if self.raise_errors:
                raise
            yield failed_source(source, self.name, f"{source}: {type(error).__name__}: {error}", sha256)

    def _clips(self, source: str, sha256: str) -> Iterator[Record]:
        clips = self.config.clips
        if os.path.getsize(source) == 0:
            yield failed_source(source, self.name, f"{source}: empty file (0 bytes)", sha256)
            return
        try:
            info = probe_video(source)
        except DecodeError as error:
            yield failed_source(source, self.name, str(error), sha256)
            return
        if max(info.width, info.height) > clips.max_source_side:
            yield failed_source(
                source,
                self.name,
                f"{source}: resolution {info.width}x{info.height} exceeds "
                f"clips.max_source_side={clips.max_source_side}",
                sha256,
            )
            return
        if min(info.width, info.height) < clips.min_source_side:
            yield failed_source(
                source,
                self.name,
                f"{source}: resolution {info.width}x{info.height} is below clips.min_source_side="
                f"{clips.min_source_side} (a clip would be upscaled from it)",
                sha256,
            )
            return
        problem = source_pose_problem(source, (info.width, info.height), self.config.pose.backend)
        if problem is not None:  # before decoding: one reason for the source, not one per clip
            yield failed_source(source, "pose", problem, sha256)
            return
        fps = clips.fps or info.average_fps or 25.0
        size = clip_size(info.width, info.height, clips.short_side)
        source_id = source_id_of(sha256)
        count = 0
        decoded = 0

        def counted(frames: Iterator[DecodedFrame]) -> Iterator[DecodedFrame]:
            nonlocal decoded
            for frame in frames:
                decoded += 1
                yield frame

        report = DecodeReport()
        try:
            stream = resized_frames(counted(iter_resampled(source, fps, report)), size)
            for frames in iter_shot_clips(
                stream,
                fps,
                clips.frames,
                stride=clips.stride,
                max_per_shot=clips.max_per_shot,
                threshold=clips.cut_threshold,
                min_shot_frames=clips.min_shot_frames,
                detect_short_side=clips.detect_short_side,
            ):
                start, end = frames[0].index, frames[-1].index + 1
                # Decode-order indices, not time x average rate: under a variable frame rate the two differ, and
                # per-frame sidecars (pose) are indexed by the source's frames.
                source_frames = np.array([f.source_index for f in frames])
                record: Record = {
                    "key": clip_key(source_id, count),
                    "source": source,
                    "source_id": source_id,
                    "source_sha256": sha256,
                    "clip_index": count,
                    "status": OK,
                    "start_frame": start,
                    "end_frame": end,
                    "start_s": frames[0].time_s,
                    "end_s": end / fps,
                    "source_start_s": frames[0].source_time_s,
                    "fps": float(fps),
                    "source_frames": source_frames,
                    "source_size": (info.width, info.height),
                    "frames": np.stack([f.rgb for f in frames]),
                    "backends": {self.name: self.backend},
                }
                damaged = [f for f in frames if f.damaged]
                if damaged:  # kept out, with the damage named: a concealed error is still an error
                    del record["frames"]
                    first, last = damaged[0], damaged[-1]
                    record.update(
                        status=REJECTED,
                        stage=self.name,
                        reason=f"{source}: damaged source frames {first.source_index}-{last.source_index} "
                        f"({first.source_time_s:.2f}-{last.source_time_s:.2f} s): {report.summary}",
                    )
                yield record
                count += 1
        except DecodeError as error:
            reason = str(error) if count == 0 else f"decoding stopped after {count} clips: {error}"
            yield failed_source(source, self.name, reason, sha256)
            return
        if count == 0:
            yield failed_source(
                source,
                self.name,
                f"{source}: no clip of {clips.frames} frames fits in any shot ({decoded} frames at {fps:g} fps)",
                sha256,
            )
