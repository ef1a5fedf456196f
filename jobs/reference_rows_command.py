"""`backdrop reference-rows`: the training-free rows (ground truth, frozen background, shifted background) of a
folder of ground-truth clips, written as videos and scored with the background-motion suite (docs/metrics.md)."""

from __future__ import annotations

import math
from pathlib import Path

import click

__all__ = ["reference_rows_command"]


@click.command("reference-rows")
@click.option(
    "--ref",
    "ref",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of synthetic ground-truth clips (NAME.mp4, NAME.gt.npz, NAME.json, as `backdrop synth` writes).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: OUT/ROW/NAME.mp4 per row, OUT/ROW.json|.parquet results, OUT/reference_rows.json.",
)
@click.option(
    "--shift-px",
    default=32.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Shifted row: the injected translation at the last frame (linear from 0 at frame 0), in pixels.",
)
@click.option("--protocol", "protocol_name", default="bd16", show_default=True, help="Protocol name for scoring.")
@click.option(
    "--pixel-resolution",
    type=click.IntRange(min=8),
    default=None,
    help="Compare frames resized to SxS: the protocol becomes NAME-pxS.",
)
@click.option("--no-score", is_flag=True, help="Only write the videos; do not score them.")
def reference_rows_command(
    ref: Path, out: Path, shift_px: float, protocol_name: str, pixel_resolution: int | None, no_score: bool
) -> None:
    """Write the reference rows of the clips in --ref and score each against them with the background suite.

    The rows calibrate the leaderboard: `ground-truth` is each clip itself (the suite's floor: tracker noise),
    `frozen-background` keeps frame 0's scene behind the true persons, `shifted-background` adds a known camera
    error. Only synthetic clips can be re-rendered this way.
    """
    from benchmark.protocol import get_protocol
    from benchmark.reference_rows import REFERENCE_ROWS, score_reference_rows, write_reference_rows
    from benchmark.scoring import write_results

    try:
        protocol = get_protocol(protocol_name, pixel_resolution=pixel_resolution)
        folders = write_reference_rows(
            ref, out, shift_px=shift_px, on_clip=lambda n: click.echo(f"rendered {n}", err=True)
        )
        if no_score:
            return
        results = score_reference_rows(folders, ref, protocol, log=lambda line: click.echo(line, err=True))
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc)) from exc
    for row, rows in results.items():
        for path in write_results(rows, out / row):
            click.echo(f"wrote {path}", err=True)
    values = {row: {r.metric: r.value for r in rows} for row, rows in results.items()}
    units = {r.metric: r.unit for r in results[REFERENCE_ROWS[0]]}
    click.echo(f"{'metric':22s}{'unit':>10s}" + "".join(f"{row:>20s}" for row in REFERENCE_ROWS))
    for metric in values[REFERENCE_ROWS[0]]:
        cells = "".join(
            f"{'n/a' if math.isnan(values[row][metric]) else format(values[row][metric], '.4g'):>20s}"
            for row in REFERENCE_ROWS
        )
        click.echo(f"{metric:22s}{units[metric][:10]:>10s}{cells}")
