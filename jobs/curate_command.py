"""`backdrop curate SRC... --out DIR`: the curation job, on a Ray cluster (local by default) or in this process."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from curation.config import load_config
from curation.dataset_card import CARD_FILE
from curation.pipeline.job import JobOptions, JobSummary, run_job, sequential_engine
from curation.pipeline.job_identity import (
    IDENTITY_FILE,
    MODES,
    OVERWRITE,
    RESUME,
    JobIdentity,
    SettingsMismatchError,
    claim_folder,
)
from curation.record import FAILED, OK, REJECTED
from curation.shards.ledger import JobLockedError
from curation.video.source_lists import SourceListError, resolve_sources
from jobs.cli_options import address_option, config_option, engine_option, num_cpus_option
from jobs.console_logging import NORMAL, QUIET, VERBOSE, configure_logging, quiet_option, verbose_option, verbosity_of
from jobs.progress import JobProgress
from jobs.ray_start import RayStartError

#: Seconds between plain progress lines when the output is not a terminal.
PROGRESS_INTERVAL = 30.0


def print_summary(summary: JobSummary, out: Path, console: Console) -> None:
    extended = f", {summary.kept_from_folder} more kept from the folder" if summary.kept_from_folder else ""
    console.print(
        f"[bold]curate[/]: {summary.sources} sources ({summary.skipped} finished earlier, skipped{extended}) "
        f"-> {out.resolve()}"
    )
    console.print(
        f"clips: {summary.status[OK]} kept, {summary.status[REJECTED]} rejected, {summary.status[FAILED]} failed"
    )
    if summary.reasons:
        table = Table(title="not kept, by reason", title_justify="left")
        for column in ("status", "stage", "reason", "clips"):
            table.add_column(column, justify="right" if column == "clips" else "left")
        for (status, stage, reason), count in sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(status, stage, reason[:160], str(count))
        console.print(table)
    shards = ", ".join(
        f"{split}: {len(names)} shards, {summary.samples[split]} clips" for split, names in summary.shards.items()
    )
    console.print(f"shards: {shards} (in {out / 'shards'}); manifest: {out / 'manifest.parquet'}")
    console.print(
        f"throughput: {summary.clips_this_run} clips in {summary.seconds:.1f} s = "
        f"{summary.clips_per_minute:.1f} clips/min"
    )
    console.print(f"settings and versions: {out / IDENTITY_FILE}; dataset card: {out / CARD_FILE}")


def curate(
    sources: list[str],
    out: Path,
    config_path: Path | None,
    *,
    address: str | None = None,
    engine_name: str = "ray",
    num_cpus: int | None = None,
    object_store_mb: int | None = None,
    options: JobOptions | None = None,
    console: Console | None = None,
    verbosity: int = NORMAL,
    progress_interval: float = PROGRESS_INTERVAL,
) -> JobSummary:
    """The job behind the command (also what `backdrop demo` runs).

    Progress: a bar when `console` is a terminal, else a log line every `progress_interval` seconds; none when
    quiet, and no summary either."""
    console = console or Console()
    config = load_config(config_path)
    options = options or JobOptions()
    if options.mode != OVERWRITE:  # refuse a folder of other settings now, before starting Ray (the job checks too)
        claim_folder(out, JobIdentity.of(config, options.test_fraction), options.mode)
    if engine_name == "ray":
        from jobs.ray_pipeline import init_ray, ray_engine  # Ray only when asked for

        init_ray(address, num_cpus=num_cpus, object_store_mb=object_store_mb, verbose=verbosity == VERBOSE)
        engine = ray_engine(config)
    else:
        engine = sequential_engine(config)
    mode = "off" if verbosity == QUIET else "bar" if console.is_terminal else "lines"
    with JobProgress(len(sources), console, mode=mode, interval=progress_interval) as progress:
        summary = run_job(sources, out, engine, options, on_result=progress.update)
    if verbosity != QUIET:
        print_summary(summary, out, console)
    return summary


@click.command("curate")
@click.argument("src", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder: shards/, manifest.parquet, and work/ (the ledger that makes re-runs resume).",
)
@config_option
@address_option
@engine_option
@num_cpus_option
@click.option(
    "--object-store-mb",
    type=click.IntRange(min=64),
    default=None,
    help="Object store of the local Ray, in MB (default: Ray's).",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Share of source videos in the test split (decided per source from its content hash).",
)
@click.option(
    "--shard-mb", type=click.FloatRange(min=0.001), default=256.0, show_default=True, help="Target shard size in MB."
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=RESUME,
    show_default=True,
    help="resume: OUT holds exactly SRC, sources finished earlier are kept; extend: OUT keeps every source it holds "
    "and adds SRC; overwrite: remove what earlier jobs wrote in OUT first. resume and extend refuse a folder "
    "curated with other settings (--config, --test-fraction), naming the differences.",
)
@click.option(
    "--progress-interval",
    type=click.FloatRange(min=0.1),
    default=PROGRESS_INTERVAL,
    show_default=True,
    help="Seconds between progress lines when the output is not a terminal (a pipe, a cluster's job log).",
)
@quiet_option
@verbose_option
def curate_command(
    src: tuple[Path, ...],
    out: Path,
    config_path: Path | None,
    address: str | None,
    engine_name: str,
    num_cpus: int | None,
    object_store_mb: int | None,
    test_fraction: float,
    shard_mb: float,
    mode: str,
    progress_interval: float,
    quiet: bool,
    verbose: bool,
) -> None:
    """Curate SRC (video files, folders, or .txt / .parquet lists of paths) into schema-v1 shards under OUT.

    A killed job run again skips the sources it finished and ends with the same shards. Sources must be readable
    at the same paths from every node of the cluster. OUT records the job's settings (job_identity.json) and
    describes itself (README.md, a dataset card).
    """
    verbosity = verbosity_of(quiet, verbose)
    configure_logging(verbosity)
    try:
        sources = resolve_sources(src)
        load_config(config_path)
    except (SourceListError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    try:
        summary = curate(
            sources,
            out,
            config_path,
            address=address,
            engine_name=engine_name,
            num_cpus=num_cpus,
            object_store_mb=object_store_mb,
            options=JobOptions(test_fraction, shard_mb, mode=mode),
            verbosity=verbosity,
            progress_interval=progress_interval,
        )
    except (JobLockedError, SettingsMismatchError, RayStartError) as error:
        raise click.ClickException(str(error)) from None
    if summary.sources and summary.status[OK] == 0:
        raise SystemExit(1)
