"""`backdrop demo`: the main job on the embedded default. Renders the synthetic corpus, then curates it into shards
(the same `curate` job as `backdrop curate`, on a local Ray by default) and prints the job's summary."""

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
from jobs.cli_options import address_option, engine_option, num_cpus_option
from jobs.console_logging import configure_logging, quiet_option, verbose_option, verbosity_of
from jobs.curate_command import curate
from jobs.generate_command import generate
from jobs.synth_command import generate_corpus
from jobs.train_command import train

#: The demo's curation settings: 24-frame clips at a 256-pixel short side keep the CPU time of the weights-free
#: backends moderate (a laptop or a 2-core CI machine); no pyiqa metric, since the demo never needs weights.
DEMO_CONFIG: dict[str, Any] = {
    "clips": {"frames": 24, "short_side": 256},
    "tracks": {"grid_step": 16},
    "quality": {"pyiqa": []},
}


def demo_run_config(image_steps: int, video_steps: int) -> dict[str, Any]:
    """The tiny run configuration with the demo's budget (a few dozen steps: it shows the path, not a model)."""
    from models.training.config import read_run_file

    config = read_run_file("tiny")
    budget = {"image": image_steps, "video": video_steps}
    stages = [dict(stage, steps=budget[stage["name"]]) for stage in config["train"]["stages"] if budget[stage["name"]]]
    every = max(1, max(budget.values()))
    config["train"].update(stages=stages, checkpoint_every=every, validate_every=every, log_every=10, sample_steps=5)
    return config


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Output folder: synthetic/ (the corpus), curation.yaml, curated/ (shards, manifest, ledger).",
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
    few steps into OUT/run, and generate the test clips with it into OUT/generated.

    Run again, it keeps the rendered clips and the curated sources and only repacks; a finished training run is
    kept (a killed one resumes) and generated clips are kept.
    """
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
            console.print("backdrop demo: no test clips to generate (the corpus is too small for a test split)")
            return
        generate(
            out / "run",
            out / "curated",
            "test",
            out / "generated",
            inference_steps=10,
            engine_name=trainer_engine,
            address=address,
            num_cpus=num_cpus,
            console=console,
        )
    console.print(f"next: backdrop shards inspect {out / 'curated'} --overlay {out / 'sample.overlay.mp4'}")
