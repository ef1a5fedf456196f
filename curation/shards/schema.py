"""Shard schema version 1: a curated clip record as the members of one WebDataset sample, and back.

| member | content |
| --- | --- |
| `mp4` | the clip: H.264, constant frame rate, no audio |
| `json` | metadata (see `clip_metadata`), with the job that made the clip (`job`: settings hash, backdrop version) |
| `pose.npy` | float32 [T, P, 133, 3] |
| `tracks.npy` | float32 [T, N, 2] |
| `visible.npy` | bool [T, N] |
| `track_mask.npy` | bool [T, N] |
| `fgmask.npy` | uint8 [T, H, ceil(W/8)], `numpy.packbits` along width |
| `camera.npy` | float32 [T, 3, 3] |

Arrays are `.npy` files read back with `allow_pickle=False`. Readers refuse a schema version they do not know.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from curation.record import Record

SCHEMA_VERSION = 1

ARRAY_MEMBERS: dict[str, tuple[str, type]] = {
    "pose.npy": ("pose", np.float32),
    "tracks.npy": ("tracks", np.float32),
    "visible.npy": ("visible", np.bool_),
    "track_mask.npy": ("track_mask", np.bool_),
    "camera.npy": ("camera", np.float32),
}
MEMBERS = ("mp4", "json", *ARRAY_MEMBERS, "fgmask.npy")


class SchemaError(ValueError):
    """A sample that does not follow a schema version this reader knows."""


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def read_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN; a missing figure reads as null
    return value


def clip_metadata(record: Record) -> dict[str, Any]:
    """The `json` member: everything about a clip that is not an array."""
    frames = record["frames"]
    scores = record.get("scores", {})
    return _plain(
        {
            "schema_version": SCHEMA_VERSION,
            "key": record["key"],
            "source": {"uri": record["source"], "sha256": record["source_sha256"], "clip_index": record["clip_index"]},
            "span": {
                "start_frame": record["start_frame"],
                "end_frame": record["end_frame"],
                "start_s": record["start_s"],
                "end_s": record["end_s"],
                "source_start_s": record["source_start_s"],
                "source_frames": [int(record["source_frames"][0]), int(record["source_frames"][-1]) + 1],
            },
            "fps": record["fps"],
            "width": frames.shape[2],
            "height": frames.shape[1],
            "frames": frames.shape[0],
            "persons": {
                "count": scores.get("person_count"),
                "count_max": scores.get("person_count_max"),
                "area": scores.get("person_area"),
                "tracked_points": record["tracks"].shape[1],
            },
            "scores": scores,
            "scores_missing": record.get("scores_missing", {}),
            "camera": {
                "label": record["camera_label"],
                "magnitude": record["camera_magnitude"],
                "inlier_ratio": record.get("camera_inlier_ratio"),
            },
            "filter": record.get("filter", {}),
            "backends": record.get("backends", {}),
            # the job that made it: its settings' hash and backdrop's version (curation.pipeline.job_identity)
            "job": record.get("job"),
        }
    )


def encode_members(record: Record) -> dict[str, bytes]:
    """The members of a finished, kept clip record (encoded by the encode stage)."""
    if "mp4" not in record:
        raise ValueError(f"{record.get('key')}: the clip was not encoded (status {record.get('status')})")
    members = {"mp4": record["mp4"], "json": json.dumps(clip_metadata(record), sort_keys=True).encode()}
    for member, (field, dtype) in ARRAY_MEMBERS.items():
        members[member] = npy_bytes(np.asarray(record[field]).astype(dtype, copy=False))
    members["fgmask.npy"] = npy_bytes(np.packbits(np.asarray(record["fgmask"], bool), axis=-1))
    return members


def _member_array(members: dict[str, bytes], member: str) -> np.ndarray:
    try:
        return read_npy(members[member])
    except (ValueError, OSError, EOFError) as error:  # pickled objects are refused (allow_pickle=False), or garbage
        raise SchemaError(f"member {member} refused: {error}") from error


def decode_members(members: dict[str, bytes]) -> dict[str, Any]:
    """Arrays and metadata of one sample (the mp4 stays bytes); refuses unknown schema versions."""
    missing = [m for m in MEMBERS if m not in members]
    if missing:
        raise SchemaError(f"sample lacks members {missing}")
    meta = json.loads(members["json"])
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"sample {meta.get('key')!r} has schema version {version!r}; this reader knows {SCHEMA_VERSION}"
        )
    out: dict[str, Any] = {"json": meta, "mp4": members["mp4"]}
    for member, (field, _) in ARRAY_MEMBERS.items():
        out[field] = _member_array(members, member)
    packed = _member_array(members, "fgmask.npy")
    out["fgmask"] = np.unpackbits(packed, axis=-1, count=meta["width"]).astype(bool)
    return out
