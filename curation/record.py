"""The clip record: the plain dict that flows through the curation stages (a Ray Data row as well).

A record never raises out of a stage: a failure is data. Every record has `key`, `source`, `status` (`ok`,
`rejected` by a filter, or `failed`), and, when not ok, `stage` (where it stopped) and `reason` (a sentence naming
the input and the problem). Stages add their outputs under documented keys:

| key | set by | content |
| --- | --- | --- |
| `key`, `source`, `source_id`, `source_sha256`, `clip_index` | source | identity; the key is `{source_id}-{clip:04d}` |
| `start_frame`, `end_frame`, `start_s`, `end_s`, `fps` | source | span at the output rate (half-open frames) |
| `source_frames`, `source_size` | source | source frame index of each clip frame; source display size (w, h) |
| `frames` | source | uint8 [T, H, W, 3] RGB at the clip size |
| `pose`, `fgmask`, `fgmask_dilated` | pose, foreground | as in the shard schema (masks unpacked, bool) |
| `queries`, `tracks`, `visible`, `track_mask` | tracks, camera | as in the shard schema |
| `camera`, `camera_label`, `camera_magnitude`, `camera_inlier_ratio` | camera | homographies frame 0 -> t and summary |
| `scores`, `scores_missing` | quality | name -> float (None when not computed); name -> why not computed |
| `filter` | filter | {kept, reasons, skipped} |
| `mp4` | encode | the clip's H.264 bytes |
| `backends` | every stage | stage name -> backend name and version |
"""

from __future__ import annotations

import os
from typing import Any

OK, REJECTED, FAILED = "ok", "rejected", "failed"

Record = dict[str, Any]


def source_id_of(sha256: str) -> str:
    """A source's id: the first 16 hex digits of its content hash (same file, same keys, on any machine)."""
    return sha256[:16]


def clip_key(source_id: str, clip_index: int) -> str:
    if clip_index < 0 or clip_index > 9999:
        raise ValueError(f"clip index must lie in [0, 9999], got {clip_index}")
    return f"{source_id}-{clip_index:04d}"


def failed_source(source: str, stage: str, reason: str, source_sha256: str | None = None) -> Record:
    """The record of a source that yields no (more) clips: its key is the source id (or the path when unreadable)."""
    source_id = source_id_of(source_sha256) if source_sha256 else None
    return {
        "key": source_id or os.fspath(source),
        "source": os.fspath(source),
        "source_id": source_id,
        "source_sha256": source_sha256,
        "clip_index": -1,
        "status": FAILED,
        "stage": stage,
        "reason": reason,
    }


def mark_failed(record: Record, stage: str, reason: str) -> Record:
    record.update(status=FAILED, stage=stage, reason=reason)
    return record
