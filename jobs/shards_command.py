"""`backdrop shards inspect|stats|card DIR`: what a curate job wrote (shards, samples per split, camera labels,
statuses from the manifest) with one sample rendered as an overlay video or frame; the dataset's statistics; its
dataset card written again. A folder with nothing to show is an error (exit status 1), never an empty summary."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click
import cv2
import pandas as pd
from rich.console import Console
from rich.table import Table

from curation.dataset_card import write_dataset_card
from curation.overlay import overlay_frame, overlay_frames, overlay_layers
from curation.shards.dataset_stats import NoDatasetError, dataset_stats, stats_json
from curation.shards.reader import shard_dataset, shard_dir, shard_urls
from curation.shards.schema import SchemaError
from curation.shards.split import SPLITS
from curation.video.encode import write_mp4
from curation.video.reader import DecodeError


def _manifest(out: Path) -> pd.DataFrame | None:
    for path in (out / "manifest.parquet", out.parent / "manifest.parquet"):
        if path.is_file():
            return pd.read_parquet(path)
    return None


def require_shards(out: Path) -> None:
    """Refuse a folder that holds no shards, saying what was looked for."""
    folder = shard_dir(out)
    if not any(shard_urls(folder, split) for split in SPLITS):
        raise click.ClickException(
            f"{out}: no shards ({folder} holds no {'/'.join(SPLITS)}-NNNNNN.tar); give the output folder of "
            "`backdrop curate` or its shards/ folder"
        )


def print_shard_summary(out: Path, console: Console) -> None:
    require_shards(out)
    folder = shard_dir(out)
    console.print(f"shards in {folder}", soft_wrap=True)
    for split in SPLITS:
        urls = shard_urls(folder, split)
        index = folder / f"{split}.index.json"
        samples = "0" if not urls else "?"
        if index.is_file():
            samples = str(sum(e["nsamples"] for e in json.loads(index.read_text())["shardlist"]))
        size = sum(Path(u).stat().st_size for u in urls) / 2**20
        console.print(f"  {split}: {len(urls)} shards, {samples} samples, {size:.1f} MB")
    manifest = _manifest(out)
    if manifest is None:
        console.print("no manifest.parquet beside the shards: statuses and camera labels unknown")
        return
    statuses = Counter(manifest["status"])
    console.print("manifest: " + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())))
    kept = manifest[manifest["status"] == "ok"]
    labels = Counter(kept["camera_label"].dropna())
    console.print("camera labels (kept clips): " + ", ".join(f"{label} {n}" for label, n in sorted(labels.items())))
    reasons = Counter(manifest.loc[manifest["status"] != "ok", "reason"].dropna())
    for reason, count in reasons.most_common(5):
        console.print(f"  not kept x{count}: {reason[:160]}")


def render_sample(
    out: Path,
    key: str | None,
    overlay: Path | None,
    console: Console,
    frame: int | None = None,
    png: Path | None = None,
) -> str:
    """Write the overlay video of sample `key` (the first train sample when None) and/or one overlay frame as a PNG
    (`frame`, default the middle one); returns the key."""
    for split in SPLITS:
        if not shard_urls(out, split):
            continue
        for sample in shard_dataset(out, split):
            if key is None or sample["__key__"] == key:
                meta = sample["json"]
                layers = overlay_layers(sample, meta["camera"]["label"])
                frames = sample["frames"].numpy()
                written = []
                if overlay is not None:
                    overlay.parent.mkdir(parents=True, exist_ok=True)
                    write_mp4(overlay, overlay_frames(frames, **layers), meta["fps"])
                    written.append(str(overlay))
                if png is not None:
                    t = len(frames) // 2 if frame is None else frame
                    image = overlay_frame(frames, t, **layers)
                    png.parent.mkdir(parents=True, exist_ok=True)
                    if not cv2.imwrite(str(png), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
                        raise click.ClickException(f"{png}: cannot write the overlay frame")
                    written.append(f"{png} (frame {t})")
                console.print(
                    f"sample {sample['__key__']} ({split}, {meta['frames']} frames "
                    f"{meta['width']}x{meta['height']}, camera {meta['camera']['label']}, source "
                    f"{meta['source']['uri']}) -> {', '.join(written)}"
                )
                return sample["__key__"]
    raise click.ClickException(f"no sample {key!r} in {shard_dir(out)}" if key else f"no sample in {out}")


@click.group("shards")
def shards_command() -> None:
    """Look at the shards a curate job wrote."""


@shards_command.command("inspect")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--key", default=None, help="The sample to render (default: the first train sample).")
@click.option(
    "--overlay",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the sample's overlay video (person, skeleton, tracks, camera glyph, label and legend) here.",
)
@click.option(
    "--frame-png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one overlay frame of the sample as a PNG here (--frame, default the middle one).",
)
@click.option("--frame", type=click.IntRange(min=0), default=None, help="The frame --frame-png renders.")
def inspect_shards(out: Path, key: str | None, overlay: Path | None, frame_png: Path | None, frame: int | None) -> None:
    """Summarise OUT (a curate job's output folder, or its shards/ folder) and optionally render one sample.

    Exits 1 when OUT holds no shards."""
    console = Console()
    try:
        print_shard_summary(out, console)
        if overlay is not None or key is not None or frame_png is not None:
            if overlay is None and frame_png is None:
                overlay = Path(f"{key or 'sample'}.overlay.mp4")
            render_sample(out, key, overlay, console, frame=frame, png=frame_png)
    except (SchemaError, DecodeError, OSError, ValueError) as error:  # a refused shard or a frame outside the clip
        raise click.ClickException(f"{out}: {error}") from None


@shards_command.command("stats")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats_command(out: Path, as_json: bool) -> None:
    """The statistics of the dataset in OUT (a curate job's output folder): sources, clips by split, status, camera
    label and reason, shards and durations, score summaries. Exits 1 when OUT holds no dataset."""
    try:
        stats = dataset_stats(out)
    except NoDatasetError as error:
        raise click.ClickException(str(error)) from None
    if stats["clips"] == 0:
        raise click.ClickException(f"{out}: the manifest holds no clips")
    if as_json:
        click.echo(stats_json(stats))
        return
    console = Console()
    console.print(f"{out}: {stats['sources']} sources, {stats['clips']} clips")
    table = Table(title="by split", title_justify="left")
    for column in ("split", "sources", "clips", "kept", "shards", "samples", "duration (s)", "MB"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for split, s in stats["splits"].items():
        table.add_row(
            split, *map(str, (s["sources"], s["clips"], s["kept"], s["shards"], s["samples"])),
            f"{s['duration_s']:.1f}", f"{s['bytes'] / 2**20:.1f}",
        )  # fmt: skip
    console.print(table)
    console.print("status: " + ", ".join(f"{k} {v}" for k, v in stats["status"].items()))
    labels = ", ".join(f"{label} {sum(c.values())}" for label, c in stats["camera_labels"].items())
    console.print(f"camera labels (kept clips): {labels or '-'}")
    for reason in stats["reasons"][:10]:
        console.print(
            f"  not kept x{reason['clips']}: {reason['status']} at {reason['stage']}: {reason['reason'][:160]}"
        )
    table = Table(title="scores of the kept clips", title_justify="left")
    for column in ("score", "clips", "mean", "median", "min", "max"):
        table.add_column(column, justify="left" if column == "score" else "right")
    for name, s in stats["scores"].items():
        values = (s["mean"], s["median"], s["min"], s["max"])
        table.add_row(name, str(s["count"]), *("-" if v is None else f"{v:.4g}" for v in values))
    console.print(table)


@shards_command.command("card")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
def card_command(out: Path) -> None:
    """Write OUT's dataset card again (OUT/README.md and OUT/card/), from its manifest, shards and settings."""
    try:
        require_shards(out)
        path = write_dataset_card(out)
    except NoDatasetError as error:
        raise click.ClickException(str(error)) from None
    Console().print(f"dataset card: {path}")
