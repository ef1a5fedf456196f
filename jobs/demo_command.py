"""`backdrop demo`: the main job on the embedded default. Renders the synthetic corpus, curates it into shards (the
same `curate` job as `backdrop curate`, on a local Ray by default), trains the tiny baseline on them, defines a
benchmark from the test split, generates and scores the test clips with the trained model, and writes the HTML
leaderboard, printing where it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Console

from curation.pipeline.job import JobOptions
from curation.pipeline.job_identity import MODES, RESUME, SettingsMismatchError
from curation.synthetic.clip import SynthConfig
from curation.video.source_lists import resolve_sources
from jobs.bench_command import run_benchmark
from jobs.cli_options import address_option, engine_option, num_cpus_option
from jobs.console_logging import configure_logging, quiet_option, verbose_option, verbosity_of
from jobs.curate_command import curate
from jobs.synth_command import generate_corpus
from jobs.train_command import train

#: The demo's benchmark protocol: the weights-free metrics (PSNR, SSIM, the background suite) at 128 px, the tiny
#: model's resolution (no weights file is needed, and 256 px clips compare with 128 px videos).
DEMO_PROTOCOL = "bd16-px128-free"

#: The demo's curation settings: 24-frame clips at a 256-pixel short side keep the CPU time of the weights-free
#: backends moderate (a laptop or a 2-core CI machine); no pyiqa metric, since the demo never needs weights.
DEMO_CONFIG: dict[str, Any] = {
    "clips": {"frames": 24, "short_side": 256},
    "tracks": {"grid_step": 16},
    "quality": {"pyiqa": []},
}


def demo_run_config(image_steps: int, video_steps: int) -> dict[str, Any]:
    """The tiny run configuration with the demo's budget (a few dozen steps: it shows the path, not a model)."""
    from models.training.config import read_run_file, stage_with_steps

    config = read_run_file("tiny")
    budget = {"image": image_steps, "video": video_steps}
    stages = [
        stage_with_steps(stage, budget[stage["name"]]) for stage in config["train"]["stages"] if budget[stage["name"]]
    ]
    every = max(1, max(budget.values()))
    config["train"].update(stages=stages, checkpoint_every=every, validate_every=every, log_every=10, sample_steps=5)
    return config


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Output folder: synthetic/ (the corpus), curation.yaml, curated/ (shards, manifest, ledger), run/ (the "
    "tiny model), bench/ (the benchmark), results/ (its rows and videos), leaderboard.html.",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Clips in the synthetic corpus (12 cover every camera label).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--image-steps",
    type=click.IntRange(min=0),
    default=40,
    show_default=True,
    help="Image-stage steps of the tiny model trained on the shards (0 with --video-steps 0: no training).",
)
@click.option("--video-steps", type=click.IntRange(min=0), default=10, show_default=True, help="Video-stage steps.")
@engine_option
@address_option
@num_cpus_option
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=RESUME,
    show_default=True,
    help="What curating into OUT/curated does with what it holds (see `backdrop curate --help`).",
)
@quiet_option
@verbose_option
def demo(
    out: Path,
    n: int,
    seed: int,
    image_steps: int,
    video_steps: int,
    engine_name: str,
    address: str | None,
    num_cpus: int | None,
    mode: str,
    quiet: bool,
    verbose: bool,
) -> None:
    """The main job on the embedded default: render a small synthetic corpus (one clip per camera recipe) into
    OUT/synthetic, curate it into schema-v1 shards under OUT/curated, train the tiny AnimateAnyone on them for a
    few steps into OUT/run, define a benchmark from the test split (OUT/bench, protocol bd16-px128-free, with its
    training-free rows), generate and score the test clips with the model (OUT/results), and write the leaderboard
    (OUT/leaderboard.html).

    Run again, it keeps the rendered clips and the curated sources and only repacks; a finished training run is
    kept (a killed one resumes), the benchmark and generated clips are kept.
    """
    import time

    began = time.perf_counter()
    verbosity = verbosity_of(quiet, verbose)
    configure_logging(verbosity)
    console = Console(quiet=quiet)
    console.print(f"[bold]backdrop demo[/]: synthetic corpus of {n} clips -> {out / 'synthetic'}")
    generate_corpus(n, out / "synthetic", seed, SynthConfig(), workers=2, console=console)
    config_path = out / "curation.yaml"
    config_path.write_text(yaml.safe_dump(DEMO_CONFIG, sort_keys=False))
    console.print(f"[bold]backdrop demo[/]: curating it with {config_path} ({engine_name}) -> {out / 'curated'}")
    try:
        curate(
            resolve_sources([out / "synthetic"]),
            out / "curated",
            config_path,
            address=address,
            engine_name=engine_name,
            num_cpus=num_cpus,
            options=JobOptions(test_fraction=0.2, shard_mb=64.0, mode=mode),
            console=console,
            verbosity=verbosity,
        )
    except SettingsMismatchError as error:
        raise click.ClickException(str(error)) from None
    if image_steps or video_steps:
        run_config = demo_run_config(image_steps, video_steps)
        config_file = out / "tiny-demo.yaml"
        config_file.write_text(yaml.safe_dump(run_config, sort_keys=False))
        # Ray Train and the sequential engine's in-process worker run the same loop; the demo follows --engine.
        trainer_engine = "ray" if engine_name == "ray" else "local"
        if trainer_engine == "ray" and address is None:
            import ray

            # the curate job's local Ray hides what workers print; training starts its own, which shows the
            # chief worker's progress lines
            ray.shutdown()
        train(
            config_file,
            out / "curated",
            out / "run",
            engine_name=trainer_engine,
            address=address,
            num_cpus=num_cpus,
            console=console,
        )
        from curation.shards.reader import shard_urls

        if not shard_urls(out / "curated", "test"):
            console.print("backdrop demo: no test clips to benchmark (the corpus is too small for a test split)")
            return
        leaderboard = benchmark_and_leaderboard(out, trainer_engine, address, num_cpus, console)
        if leaderboard is not None:
            console.print(
                f"[bold]backdrop demo[/]: done in {time.perf_counter() - began:.0f} s; the leaderboard: "
                f"{leaderboard.resolve()}",
                highlight=False,
                soft_wrap=True,
            )
    console.print(f"next: backdrop shards inspect {out / 'curated'} --overlay {out / 'sample.overlay.mp4'}")


def benchmark_and_leaderboard(
    out: Path, engine_name: str, address: str | None, num_cpus: int | None, console: Console
) -> Path | None:
    """bench define (kept if already there) -> bench run with the trained run -> leaderboard; the HTML's path."""
    from benchmark.definition import load_benchmark
    from benchmark.evaluation import CalibrationError, define_benchmark
    from benchmark.leaderboard import write_leaderboard
    from benchmark.protocol import get_protocol

    bench_dir = out / "bench"
    if (bench_dir / "benchmark.json").is_file():
        bench = load_benchmark(bench_dir)
    else:
        console.print(f"[bold]backdrop demo[/]: benchmark of the test split under {DEMO_PROTOCOL} -> {bench_dir}")
        try:
            bench = define_benchmark(
                out / "curated", bench_dir, get_protocol(DEMO_PROTOCOL), name="demo-test", log=lambda _: None
            )
        except CalibrationError as refused:
            console.print(f"backdrop demo: {refused}")
            return None
    calibration = bench.info["calibration"]
    console.print(
        f"  {len(bench.keys)} clips; noise floor bg-track {calibration['noise_floor_px']['bg-track']:.3g} px, "
        f"separation {calibration['separation']['bg-track']:.1f}x",
        highlight=False,
        soft_wrap=True,
    )
    run_benchmark(
        bench_dir,
        out / "results",
        model=out / "run",
        name="tiny-demo",
        inference_steps=10,
        engine_name=engine_name,
        address=address,
        num_cpus=num_cpus,
        console=console,
    )
    return write_leaderboard([bench_dir, out / "results"], out / "leaderboard.html", title="backdrop demo leaderboard")
