"""`backdrop train --config tiny --shards DIR --out RUN`: train a reference model on curated shards (Ray Train)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from rich.console import Console

from jobs.cli_options import address_option, num_cpus_option

log = logging.getLogger(__name__)


@click.command("train")
@click.option(
    "--config",
    "config_name",
    default="tiny",
    show_default=True,
    help="Run configuration: a YAML file with `model:` and `train:` sections, or a named one (tiny, sd15).",
)
@click.option(
    "--shards",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A curate job's output folder (or its shards/ folder): trains on `train`, validates on `test`.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run folder: run.yaml, checkpoints/, logs/ (TensorBoard), samples/. An existing run resumes.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["ray", "local"]),
    default="ray",
    show_default=True,
    help="ray: Ray Train workers (a local Ray, or --address); local: one worker in this process (debugging).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Data-parallel workers (default: train.workers)."
)
@click.option("--gpu/--no-gpu", "use_gpu", default=None, help="GPU workers (default: where the cluster has GPUs).")
@click.option(
    "--weights-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where pretrained parts are looked for (default: $BACKDROP_WEIGHTS, else ~/.cache/backdrop/weights).",
)
@address_option
@num_cpus_option
def train_command(
    config_name: str,
    shards: Path,
    out: Path,
    engine_name: str,
    workers: int | None,
    use_gpu: bool | None,
    weights_dir: Path | None,
    address: str | None,
    num_cpus: int | None,
) -> None:
    """Train the model of a run configuration on a curate job's shards, into the run folder OUT.

    Stages run in order (the image stage, then the video stage); a checkpoint ends every `train.checkpoint_every`
    steps and every stage. Killed and run again with the same OUT, it resumes from the last checkpoint and ends
    with the same parameters as a run never stopped.
    """
    try:
        train(
            config_name,
            shards,
            out,
            engine_name=engine_name,
            workers=workers,
            use_gpu=use_gpu,
            weights_dir=weights_dir,
            address=address,
            num_cpus=num_cpus,
        )
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from error


def train(
    config_name: str | Path,
    shards: Path,
    out: Path,
    *,
    engine_name: str = "ray",
    workers: int | None = None,
    use_gpu: bool | None = None,
    weights_dir: Path | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    console: Console | None = None,
) -> int:
    """The `train` job (also what `backdrop demo` runs); returns the step it ended at. A bad configuration, a run
    folder of other settings or missing shards raise FileNotFoundError or ValueError before anything starts."""
    from models.config import load_model_config
    from models.training.config import read_run_file, train_config_from_dict
    from models.training.run_dir import prepare_run

    console = console or Console()
    data = read_run_file(config_name)
    settings = train_config_from_dict(data.get("train"))
    load_model_config(data.get("model"))  # refuse a bad model section before anything starts
    run = prepare_run(out, data, shards)
    workers = workers or settings.workers
    console.print(
        f"[bold]backdrop train[/]: {config_name} on {shards} -> {out} "
        f"({settings.total_steps} steps: {', '.join(f'{s.name} {s.steps}' for s in settings.stages)}; {engine_name})"
    )
    if engine_name == "local":
        import torch

        from models.training.loop import WorkerContext
        from models.training.run import run_training

        device = torch.device("cuda" if use_gpu or (use_gpu is None and torch.cuda.is_available()) else "cpu")
        run_training(run, WorkerContext(device=device), weights_dir=weights_dir)
    else:
        import ray

        from jobs.ray_pipeline import init_ray
        from jobs.training.ray_train import train_on_ray

        hook = "jobs.training.ray_train.quiet_worker_logs"
        init_ray(address, num_cpus=num_cpus, log_to_driver=True, runtime_env={"worker_process_setup_hook": hook})
        if use_gpu is None:
            use_gpu = ray.cluster_resources().get("GPU", 0) >= 1
        train_on_ray(run, workers=workers, use_gpu=use_gpu, threads=settings.threads, weights_dir=weights_dir)
    from models.training.checkpoints import latest_checkpoint

    last = latest_checkpoint(out)
    console.print(
        f"[bold]backdrop train[/]: done at step {last.step if last else 0} of {settings.total_steps}; "
        f"checkpoints in {out / 'checkpoints'}, TensorBoard logs in {out / 'logs'}"
    )
    return last.step if last else 0
