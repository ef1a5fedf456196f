"""What a finished clip record becomes: a manifest row (every clip, kept or not) and, for a kept clip, its
schema-v1 members. Computed where the clip was processed, so the frames never travel back to the job's driver.

Each source's records end with an end marker that says how many records the source produced: the driver knows a
source is complete when it holds that many distinct keys (retried work may deliver a record twice; keys dedupe).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from curation.record import OK, Record
from curation.shards.schema import _plain, encode_members

#: Manifest columns present in every row (scores follow as `score_NAME` columns, then `split` and `shard`).
ROW_COLUMNS = (
    "key", "source", "source_id", "source_sha256", "clip_index", "status", "stage", "reason",
    "start_frame", "end_frame", "start_s", "end_s", "fps", "width", "height", "frames",
    "camera_label", "camera_magnitude", "camera_inlier_ratio", "tracked_points", "filter_reasons",
)  # fmt: skip

END = "end"  # the `kind` of a source's end marker


def unit_of(source: str, source_id: str | None) -> str:
    """The name of a source's finished unit: its content id, or for an unreadable file a hash of its path."""
    if source_id:
        return source_id
    return "path-" + hashlib.sha256(os.fsencode(source)).hexdigest()[:16]


def manifest_row(record: Record) -> dict[str, Any]:
    """The manifest row of any finished record (ok, rejected or failed at any stage)."""
    frames = record.get("frames")
    tracks = record.get("tracks")
    reasons = (record.get("filter") or {}).get("reasons")
    row: dict[str, Any] = {
        "key": record["key"],
        "source": record["source"],
        "source_id": record.get("source_id"),
        "source_sha256": record.get("source_sha256"),
        "clip_index": record.get("clip_index", -1),
        "status": record["status"],
        "stage": record.get("stage"),
        "reason": record.get("reason"),
        "start_frame": record.get("start_frame"),
        "end_frame": record.get("end_frame"),
        "start_s": record.get("start_s"),
        "end_s": record.get("end_s"),
        "fps": record.get("fps"),
        "width": None if frames is None else int(frames.shape[2]),
        "height": None if frames is None else int(frames.shape[1]),
        "frames": None if frames is None else int(frames.shape[0]),
        "camera_label": record.get("camera_label"),
        "camera_magnitude": record.get("camera_magnitude"),
        "camera_inlier_ratio": record.get("camera_inlier_ratio"),
        "tracked_points": None if tracks is None else int(tracks.shape[1]),
        "filter_reasons": json.dumps(list(reasons)) if reasons else None,
    }
    for name, value in sorted((record.get("scores") or {}).items()):
        row[f"score_{name}"] = value
    return _plain(row)


def clip_result(record: Record, job: dict[str, str] | None = None) -> dict[str, Any]:
    """A finished record as `{kind, key, source, unit, row, members}`; members only for a kept clip, whose JSON
    records `job` (the job identity's stamp)."""
    if job is not None:
        record = {**record, "job": job}
    members = encode_members(record) if record["status"] == OK else None
    return {
        "kind": "clip",
        "key": record["key"],
        "source": record["source"],
        "unit": unit_of(record["source"], record.get("source_id")),
        "row": manifest_row(record),
        "members": members,
    }


def end_marker(source: str, unit: str, records: int) -> dict[str, Any]:
    return {"kind": END, "key": f"{unit}.end", "source": source, "unit": unit, "records": records}
