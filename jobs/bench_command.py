"""`backdrop bench define | export | run`: benchmarks from curated test shards, inputs for outside models, and
generation plus scoring in one command (docs/benchmark.md). Generation goes through the reference models'
generation job (`jobs.generate_command.generate`, Ray actors, GPU shares where present); `benchmark` itself never
imports `models`."""

from __future__ import annotations

import math
import time
from pathlib import Path

import click
from rich.console import Console

from jobs.cli_options import address_option, num_cpus_option
from jobs.score_command import _parse_weights

__all__ = ["bench_command", "print_rows", "run_benchmark"]

_FAILURES = (KeyError, ValueError, FileNotFoundError, FileExistsError)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc))


weights_dir_option = click.option(
    "--weights-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the canonical weights files."
)
weights_option = click.option(
    "--weights", "weights", multiple=True, metavar="NAME=PATH", help="A weights file for one network; repeatable."
)
lpips_trunk_option = click.option(
    "--lpips-trunk", type=click.Path(dir_okay=False, path_type=Path), help="torchvision AlexNet weights for LPIPS."
)
device_option = click.option("--device", default="cpu", show_default=True, help="Device of the feature networks.")


def print_rows(rows, console: Console) -> None:
    """One line per metric: value and unit, the 95 % interval, the videos and frames it came from."""
    for row in rows:
        d = row.to_dict()
        value = "n/a" if d["value"] is None or not math.isfinite(d["value"]) else f"{d['value']:.4g}"
        interval = f" [{d['interval_low']:.4g}, {d['interval_high']:.4g}]" if d.get("interval_low") is not None else ""
        console.print(
            f"  {d['metric']:22s} {value} {d['unit']}{interval}  ({d['num_videos']} videos, "
            f"{d.get('num_frames')} frames; {d['protocol']})",
            highlight=False,
            soft_wrap=True,
        )


@click.group("bench")
def bench_command() -> None:
    """Benchmarks: define one from curated test shards, export its inputs for outside models, run models on it."""


@bench_command.command("define")
@click.option("--shards", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--protocol", "protocol_name", required=True, help="A built-in protocol (docs/metrics.md).")
@click.option(
    "--pixel-resolution",
    type=click.IntRange(min=8),
    default=None,
    help="Fix the pixel resolution (the protocol becomes NAME-pxS, a protocol of its own).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="The benchmark folder.")
@click.option("--split", default="test", show_default=True)
@click.option("--name", default=None, help="The benchmark's name (default: the --out folder's name).")
@click.option(
    "--shift-px",
    default=32.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="The shifted-background row's injected translation at the last frame, in clip pixels.",
)
@weights_dir_option
@weights_option
@lpips_trunk_option
@device_option
def define_command(
    shards: Path,
    protocol_name: str,
    pixel_resolution: int | None,
    out: Path,
    split: str,
    name: str | None,
    shift_px: float,
    weights_dir: Path | None,
    weights: tuple[str, ...],
    lpips_trunk: Path | None,
    device: str,
) -> None:
    """Store a benchmark's truth from the shards' SPLIT (clips, pose, tracks, visibility, track mask, camera,
    masks), write and score its training-free rows (which stores the Fréchet reference statistics), and calibrate
    the protocol on them: one whose background suite cannot separate a frozen background from the truth is refused."""
    from benchmark.evaluation import define_benchmark
    from benchmark.protocol import get_protocol

    console = Console()
    began = time.perf_counter()
    try:
        protocol = get_protocol(protocol_name, pixel_resolution=pixel_resolution)
        bench = define_benchmark(
            shards,
            out,
            protocol,
            split=split,
            name=name,
            shift_px=shift_px,
            weights_dir=weights_dir,
            weights=_parse_weights(weights),
            lpips_trunk=lpips_trunk,
            device=device,
            log=lambda line: console.print(line, highlight=False, soft_wrap=True),
        )
    except _FAILURES as exc:
        raise _fail(exc) from exc
    calibration = bench.info["calibration"]
    console.print(
        f"[bold]backdrop bench define[/]: {bench.name}, {len(bench.keys)} clips, protocol {bench.protocol.name}, "
        f"{time.perf_counter() - began:.0f} s -> {out}"
    )
    if calibration.get("background"):
        floor = ", ".join(f"{m} {v:.3g} px" for m, v in calibration["noise_floor_px"].items())
        separation = ", ".join(f"{m} {v:.1f}x" for m, v in calibration["separation"].items())
        console.print(f"  noise floor: {floor}; separation (frozen / truth, moving clips): {separation}")


@bench_command.command("export")
@click.argument("bench", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["animateanyone", "tracks", "plain"]),
    default="animateanyone",
    show_default=True,
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def export_command(bench: Path, fmt: str, out: Path) -> None:
    """Write the benchmark's inputs for outside models: reference images and OpenPose-style pose videos with a
    Moore-AnimateAnyone inference config (animateanyone), plus masked tracks (tracks), or plain arrays (plain)."""
    from benchmark.export import export_benchmark

    try:
        export_benchmark(bench, out, fmt)
    except _FAILURES as exc:
        raise _fail(exc) from exc
    click.echo(f"wrote {fmt} inputs of {bench} to {out} (see {out / 'export.json'})")


def run_benchmark(
    bench_path: Path,
    out: Path,
    *,
    model: Path | None = None,
    videos: Path | None = None,
    name: str | None = None,
    panels: int | None = None,
    inference_steps: int = 20,
    seed: int = 0,
    engine_name: str = "ray",
    workers: int = 1,
    use_gpu: bool | None = None,
    threads: int = 1,
    model_weights_dir: Path | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    weights_dir: Path | None = None,
    weights: dict[str, Path] | None = None,
    lpips_trunk: Path | None = None,
    device: str = "cpu",
    console: Console | None = None,
) -> list:
    """Generate the benchmark's clips with a trained run (`model`) or take a folder of videos (`videos`), score them
    under the benchmark's protocol and write OUT/NAME.{json,parquet,per_video.parquet}; returns the rows."""
    from benchmark.definition import load_benchmark
    from benchmark.evaluation import score_videos
    from benchmark.scoring import write_results

    console = console or Console()
    if (model is None) == (videos is None):
        raise ValueError("give exactly one of --model (a trained run folder) and --videos (a folder of videos)")
    bench = load_benchmark(bench_path)
    if model is not None:
        from jobs.generate_command import generate

        name = name or Path(model).resolve().name
        videos = out / "videos" / name
        failed = generate(
            model,
            bench.shards,
            bench.split,
            videos,
            inference_steps=inference_steps,
            seed=seed,
            engine_name=engine_name,
            workers=workers,
            use_gpu=use_gpu,
            threads=threads,
            weights_dir=model_weights_dir,
            address=address,
            num_cpus=num_cpus,
            console=console,
        )
        if failed:
            raise ValueError(f"{failed} clip(s) failed to generate (see {videos / 'generation.json'})")
        kind = "model"
    else:
        name = name or Path(videos).resolve().name
        kind = "outside model"
    console.print(f"[bold]backdrop bench run[/]: scoring {name} on {bench.name} under {bench.protocol.name}")
    rows = score_videos(
        bench,
        videos,
        model=name,
        kind=kind,
        weights_dir=weights_dir,
        weights=weights,
        lpips_trunk=lpips_trunk,
        device=device,
        panels=panels,
        log=lambda line: console.print(f"  {line}", highlight=False, soft_wrap=True),
    )
    for path in write_results(rows, out / name):
        console.print(f"  wrote {path}", highlight=False, soft_wrap=True)
    print_rows(rows, console)
    return rows


@bench_command.command("run")
@click.argument("bench", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", type=click.Path(exists=True, file_okay=False, path_type=Path), help="A trained run folder.")
@click.option("--videos", type=click.Path(exists=True, file_okay=False, path_type=Path), help="A folder of videos.")
@click.option("--name", default=None, help="The rows' model name (default: the run's or the folder's name).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Results folder.")
@click.option(
    "--panels", type=click.IntRange(min=1), default=None, help="Videos are N panels side by side; score the last."
)
@click.option("--steps", "inference_steps", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--engine", "engine_name", type=click.Choice(["ray", "local"]), default="ray", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Generation actors.")
@click.option("--gpu/--no-gpu", "use_gpu", default=None, help="GPU actors (default: where the cluster has GPUs).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--model-weights-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@address_option
@num_cpus_option
@weights_dir_option
@weights_option
@lpips_trunk_option
@device_option
def run_command(
    bench: Path,
    model: Path | None,
    videos: Path | None,
    name: str | None,
    out: Path,
    panels: int | None,
    inference_steps: int,
    seed: int,
    engine_name: str,
    workers: int,
    use_gpu: bool | None,
    threads: int,
    model_weights_dir: Path | None,
    address: str | None,
    num_cpus: int | None,
    weights_dir: Path | None,
    weights: tuple[str, ...],
    lpips_trunk: Path | None,
    device: str,
) -> None:
    """Generate with a trained reference model (--model RUN) or take a folder of videos (--videos DIR, matched by
    key), score every metric of the benchmark's protocol, and write rows (Parquet and JSON) with intervals."""
    try:
        run_benchmark(
            bench,
            out,
            model=model,
            videos=videos,
            name=name,
            panels=panels,
            inference_steps=inference_steps,
            seed=seed,
            engine_name=engine_name,
            workers=workers,
            use_gpu=use_gpu,
            threads=threads,
            model_weights_dir=model_weights_dir,
            address=address,
            num_cpus=num_cpus,
            weights_dir=weights_dir,
            weights=_parse_weights(weights),
            lpips_trunk=lpips_trunk,
            device=device,
        )
    except _FAILURES as exc:
        raise _fail(exc) from exc
