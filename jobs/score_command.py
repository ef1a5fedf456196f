"""`backdrop score`: score generated videos against references under a named protocol (see docs/metrics.md)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["score_command"]


def _parse_weights(values: tuple[str, ...]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in values:
        network, sep, path = item.partition("=")
        if not sep or not network or not path:
            raise click.BadParameter(f"expected NAME=PATH, got {item!r}", param_hint="--weights")
        out[network] = Path(path)
    return out  # names are checked against the registry by ScoreOptions


@click.command("score")
@click.option(
    "--pred", "pred", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder of generated mp4s."
)
@click.option(
    "--ref",
    "ref",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of reference mp4s (same file stems).",
)
@click.option(
    "--protocol",
    "protocol_name",
    required=True,
    help="Protocol name (bd16, bd16-uniform, bd16-stylegan-v, bd16-px256, bd16-px128, bd16-px128-free).",
)
@click.option(
    "--pixel-resolution",
    type=click.IntRange(min=8),
    default=None,
    help="Compare frames resized to SxS (pixel metrics, background suite): the protocol becomes NAME-pxS.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Results prefix: writes OUT.json, OUT.parquet, OUT.per_video.parquet.",
)
@click.option(
    "--metrics",
    default="fvd,cd-fvd,fid,fid-vid,psnr,ssim,lpips",
    show_default=True,
    help="Comma-separated metrics or families (frechet, pixel, background). The background-motion suite "
    "(bg-track, bg-camera, ...) needs NAME.gt.npz beside each reference NAME.mp4.",
)
@click.option(
    "--weights-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding the canonical weights files (default: $BACKDROP_WEIGHTS, else ~/.cache/backdrop/weights, "
    "where `backdrop weights download` puts them).",
)
@click.option(
    "--weights",
    "weights",
    multiple=True,
    metavar="NAME=PATH",
    help="A weights file for one network, NAME its `backdrop weights` name (fvd-i3d-400, fid-inception, ...); "
    "repeatable.",
)
@click.option(
    "--lpips-trunk",
    type=click.Path(dir_okay=False, path_type=Path),
    help="torchvision AlexNet weights (`backdrop weights` name torchvision-alexnet), if the LPIPS file holds only the "
    "linear heads.",
)
@click.option(
    "--ref-stats",
    "ref_stats",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder where reference statistics are reused or saved.",
)
@click.option("--dataset", help="Dataset name for the reference statistics files (with --ref-stats).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--batch-size", default=4, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--truncate-frames", is_flag=True, help="Pixel metrics: compare the first min(T) frames when counts differ."
)
@click.option("--allow-constant-videos", is_flag=True, help="Score single-colour videos instead of refusing them.")
@click.option("--model", help="The rows' model name (default: the name of the --pred folder).")
@click.option("--benchmark", help="The rows' benchmark name (default: --dataset, if given).")
def score_command(
    pred: Path,
    ref: Path,
    protocol_name: str,
    pixel_resolution: int | None,
    out: Path,
    metrics: str,
    weights_dir: Path | None,
    weights: tuple[str, ...],
    lpips_trunk: Path | None,
    ref_stats: Path | None,
    dataset: str | None,
    device: str,
    batch_size: int,
    truncate_frames: bool,
    allow_constant_videos: bool,
    model: str | None,
    benchmark: str | None,
) -> None:
    """Score generated videos (--pred) against references (--ref), matched by file stem, under a named protocol.

    Writes one result row per metric. Weights are read from local files only; nothing is downloaded.
    """
    from benchmark.protocol import get_protocol
    from benchmark.scoring import ScoreOptions, expand_metrics, score, write_results

    try:
        options = ScoreOptions(
            protocol=get_protocol(protocol_name, pixel_resolution=pixel_resolution),
            metrics=expand_metrics([m.strip() for m in metrics.split(",") if m.strip()]),
            weights_dir=weights_dir,
            weights=_parse_weights(weights),
            lpips_trunk=lpips_trunk,
            device=device,
            batch_size=batch_size,
            ref_stats_dir=ref_stats,
            dataset=dataset,
            truncate_frames=truncate_frames,
            allow_constant=allow_constant_videos,
            model=model,
            benchmark=benchmark,
        )
        rows = score(pred, ref, options, log=lambda line: click.echo(line, err=True))
    except (KeyError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc)) from exc
    for path in write_results(rows, out):
        click.echo(f"wrote {path}", err=True)
    for row in rows:
        d = row.to_dict()
        interval = f" [{d['interval_low']:.6g}, {d['interval_high']:.6g}]" if d.get("interval_low") is not None else ""
        click.echo(
            f"{row.metric:21s} {row.value:.6g} {row.unit}{interval}  ({row.protocol}, {row.num_videos} videos, "
            f"{d.get('num_frames')} frames)"
        )
