"""`backdrop synth`: render a synthetic corpus with exact ground truth."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import WrittenClip, write_corpus


def _parse_size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT such as 512x512, got {value!r}") from None
    return width, height


def generate_corpus(
    n: int, out: Path, seed: int, config: SynthConfig, workers: int, console: Console
) -> list[WrittenClip]:
    """Write the corpus with a progress bar, then print what was made and where."""
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]synth[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("clips", total=n)
        results = write_corpus(n, out, seed, config, workers, on_clip=lambda _: progress.advance(task))
    print_summary(results, out, time.perf_counter() - started, console)
    return results


def print_summary(results: list[WrittenClip], out: Path, elapsed: float, console: Console) -> None:
    made = sum(not r.skipped for r in results)
    table = Table(title=f"Synthetic corpus: {len(results)} clips in {out.resolve()}", title_justify="left")
    table.add_column("camera label")
    table.add_column("clips", justify="right")
    table.add_column("mean magnitude (px/frame)", justify="right")
    labels = Counter(r.metadata["camera_label"] for r in results)
    for label, count in sorted(labels.items()):
        mags = [r.metadata["camera_magnitude"] for r in results if r.metadata["camera_label"] == label]
        table.add_row(label, str(count), f"{sum(mags) / len(mags):.2f}")
    console.print(table)
    motions = Counter(m for r in results for m in r.metadata["motions"])
    persons = Counter(r.metadata["num_persons"] for r in results)
    first = results[0].metadata
    console.print(
        f"motions: {dict(sorted(motions.items()))}; persons per clip: {dict(sorted(persons.items()))}; "
        f"with parallax layer: {sum(r.metadata['parallax'] for r in results)}; "
        f"with moving object: {sum(r.metadata['moving_object'] for r in results)}"
    )
    console.print(
        f"each clip: {first['width']}x{first['height']}, {first['frames']} frames at {first['fps']} fps, "
        f"{first['num_tracks']} ground-truth background tracks; files per clip: NAME.mp4, NAME.gt.npz, NAME.json"
    )
    console.print(f"{made} clips rendered, {len(results) - made} already complete; {elapsed:.1f} s")


@click.command()
@click.option("--n", "n", type=click.IntRange(min=1), default=12, show_default=True, help="Number of clips.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--seed", type=int, default=0, show_default=True, help="Corpus seed; same seed, same clips.")
@click.option(
    "--size",
    callback=_parse_size,
    default="512x512",
    show_default=True,
    help="Clip size WIDTHxHEIGHT (multiples of 4).",
)
@click.option("--frames", type=click.IntRange(min=2), default=48, show_default=True, help="Frames per clip.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True, max=240), default=24.0, show_default=True)
@click.option(
    "--grid-step",
    type=int,
    default=16,
    show_default=True,
    help="Spacing in pixels of the ground-truth background query grid on frame 0.",
)
@click.option(
    "--camera",
    type=click.Choice(["independent", "follow"]),
    default="independent",
    show_default=True,
    help="independent: the camera recipes cycle independently of the persons (the default corpus); follow: the "
    "camera pans, tilts, zooms or shakes with the one person's root motion (what a pose-driven background model "
    "can learn from).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=min(4, os.cpu_count() or 1),
    show_default=True,
    help="Processes rendering in parallel.",
)
def synth(
    n: int,
    out: Path,
    seed: int,
    size: tuple[int, int],
    frames: int,
    fps: float,
    grid_step: int,
    camera: str,
    workers: int,
) -> None:
    """Render N synthetic human clips with exact ground truth.

    Each clip shows one or two articulated figures (walk, dance, wave, turn, jump) over a large textured
    background seen by a moving camera (static, pan, tilt, zoom, roll, shake or a combination), sometimes with a
    nearer parallax layer and an independently moving object. Beside each NAME.mp4 (H.264) it writes NAME.gt.npz
    (keypoints, fgmask, homography, gt_tracks, gt_visible) and NAME.json (seed, size, camera label and magnitude,
    motion, persons, layers). Clips already complete in OUT are kept, so an interrupted run can be resumed.
    With --camera follow, the camera follows the one person instead (follow_pan, follow_tilt, follow_drift,
    follow_shake, follow_zoom; the recipe is in NAME.json).
    """
    try:
        config = SynthConfig(width=size[0], height=size[1], frames=frames, fps=fps, grid_step=grid_step, camera=camera)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    generate_corpus(n, out, seed, config, workers, Console())
