"""`backdrop inspect VIDEO --out DIR`: the curation stages on one video with the sequential runner, the per-clip
results written as shard members, and an overlay video per clip for a person to look at."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from curation.config import load_config
from curation.overlay import overlay_frames, overlay_layers
from curation.pipeline.sequential import StageTimes, run_sequential
from curation.record import FAILED, OK, Record
from curation.shards.schema import clip_metadata, encode_members
from curation.video.encode import write_mp4
from jobs.cli_options import config_option


def write_clip_results(record: Record, out: Path, overlay: bool) -> list[str]:
    """The clip's shard members as files `KEY.MEMBER` (metadata only for a rejected clip), and its overlay video."""
    key = record["key"]
    written = []
    if record["status"] == OK:
        for member, data in encode_members(record).items():
            path = out / f"{key}.{member}"
            tmp = path.with_name(f".{path.name}.partial")
            tmp.write_bytes(data)
            tmp.replace(path)
            written.append(path.name)
    elif "camera" in record:  # rejected by a filter: every result exists, only the encoding was skipped
        meta = clip_metadata(record) | {"status": record["status"], "reason": record["reason"]}
        (out / f"{key}.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        written.append(f"{key}.json")
    if overlay and "camera" in record:
        frames = overlay_frames(record["frames"], **overlay_layers(record, record["camera_label"]))
        write_mp4(out / f"{key}.overlay.mp4", frames, record["fps"])
        written.append(f"{key}.overlay.mp4")
    return written


def summary_row(record: Record) -> dict:
    scores = record.get("scores") or {}
    return {
        "key": record["key"],
        "status": record["status"],
        "stage": record.get("stage"),
        "reason": record.get("reason"),
        "start_s": record.get("start_s"),
        "end_s": record.get("end_s"),
        "camera_label": record.get("camera_label"),
        "camera_magnitude": record.get("camera_magnitude"),
        "kept_tracks": int(record["track_mask"][0].sum()) if "track_mask" in record else None,
        "scores": {k: v for k, v in scores.items() if v is None or v == v},
    }


@click.command("inspect")
@click.argument("video", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the per-clip results (KEY.mp4, KEY.json, KEY.*.npy) and overlays (KEY.overlay.mp4).",
)
@config_option
@click.option("--overlay/--no-overlay", default=True, show_default=True, help="Write an overlay video per clip.")
def inspect_command(video: Path, out: Path, config_path: Path | None, overlay: bool) -> None:
    """Run every curation stage on VIDEO and write what each clip would hold in a shard, plus an overlay.

    The overlay tints the foreground mask, draws the skeleton, the background tracks (green: kept in
    track_mask; orange: visible but masked out) and an arrow for the camera's motion with its label. The pose comes
    from a sidecar file beside the video (NAME.pose.npz, NAME.pose.npy, or a synthetic clip's NAME.gt.npz).
    """
    console = Console()
    try:
        config = load_config(config_path)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    out.mkdir(parents=True, exist_ok=True)
    times = StageTimes()
    rows = []
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]inspect[/] {task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{video.name}: decoding")
        for record in run_sequential([video], config, times=times):
            write_clip_results(record, out, overlay)
            rows.append(summary_row(record))
            progress.update(task, description=f"{video.name}: {len(rows)} clips")
    (out / "summary.json").write_text(
        json.dumps({"video": str(video), "clips": rows, "stage_seconds": times.seconds}, indent=1)
    )
    table = Table(title=f"{video} -> {out}", title_justify="left")
    for column in ("key", "status", "span (s)", "camera", "kept tracks", "reason"):
        table.add_column(column)
    for row in rows:
        span = f"{row['start_s']:.2f}-{row['end_s']:.2f}" if row["start_s"] is not None else ""
        table.add_row(
            row["key"],
            row["status"],
            span,
            row["camera_label"] or "",
            str(row["kept_tracks"] or ""),
            row["reason"] or "",
        )
    console.print(table)
    stage_text = ", ".join(f"{k} {v:.2f}" for k, v in times.seconds.items())
    console.print(f"{len(rows)} records in {time.perf_counter() - started:.1f} s (stage seconds: {stage_text})")
    if rows and all(r["status"] == FAILED for r in rows):
        raise SystemExit(1)
