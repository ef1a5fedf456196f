"""`backdrop shards inspect DIR`: what a curate job wrote (shards, samples per split, camera labels, statuses from
the manifest), and one sample rendered as an overlay video for a person to look at."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click
import pandas as pd
from rich.console import Console

from curation.overlay import overlay_frames
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


def print_shard_summary(out: Path, console: Console) -> None:
    folder = shard_dir(out)
    console.print(f"shards in {folder}", soft_wrap=True)
    for split in SPLITS:
        urls = shard_urls(folder, split)
        index = folder / f"{split}.index.json"
        samples = "?"
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


def render_sample(out: Path, key: str | None, overlay: Path, console: Console) -> str:
    """Write the overlay video of sample `key` (the first train sample when None); returns the key."""
    for split in SPLITS:
        if not shard_urls(out, split):
            continue
        for sample in shard_dataset(out, split):
            if key is None or sample["__key__"] == key:
                meta = sample["json"]
                frames = overlay_frames(
                    sample["frames"].numpy(),
                    pose=sample["pose"].numpy(),
                    fgmask=sample["fgmask"].numpy(),
                    tracks=sample["tracks"].numpy(),
                    visible=sample["visible"].numpy(),
                    track_mask=sample["track_mask"].numpy(),
                    camera=sample["camera"].numpy(),
                    label=meta["camera"]["label"],
                )
                overlay.parent.mkdir(parents=True, exist_ok=True)
                write_mp4(overlay, frames, meta["fps"])
                console.print(
                    f"sample {sample['__key__']} ({split}, {meta['frames']} frames "
                    f"{meta['width']}x{meta['height']}, camera {meta['camera']['label']}, source "
                    f"{meta['source']['uri']}) -> {overlay}"
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
    help="Write the sample's overlay video (mask, skeleton, tracks, camera arrow) here.",
)
def inspect_shards(out: Path, key: str | None, overlay: Path | None) -> None:
    """Summarise OUT (a curate job's output folder, or its shards/ folder) and optionally render one sample."""
    console = Console()
    try:
        print_shard_summary(out, console)
        if overlay is not None or key is not None:
            render_sample(out, key, overlay or Path(f"{key or 'sample'}.overlay.mp4"), console)
    except (SchemaError, DecodeError, OSError, ValueError) as error:  # a refused shard is an answer, not a crash
        raise click.ClickException(f"{out}: {error}") from None
