"""`backdrop weights list | download NAME|all | check`: the only command in backdrop that downloads anything."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from curation.weights import LOCK_NAME, WEIGHTS, Lock, WeightsError, check, default_weights_dir, download, select

_DIR = click.option(
    "--dir",
    "weights_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="weights directory (default: $BACKDROP_WEIGHTS, else ~/.cache/backdrop/weights)",
)
_LOCK = click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"lock file of hashes recorded at first download (default: DIR/{LOCK_NAME})",
)


def _lock(weights_dir: Path | None, lock_path: Path | None) -> Lock:
    return Lock(lock_path or (weights_dir or default_weights_dir()) / LOCK_NAME)


@click.group("weights")
def weights_command() -> None:
    """Weights of the learned backends and metrics: list them, download them (verified), check them.

    NAME is a file's name (the name `backdrop score --weights` and the protocols use too: fvd-i3d-400, fid-inception,
    ...) or a group (dwpose, sam2.1-tiny, cotracker3-online, iqa-musiq, fid, ...) or `all`. Entries without a URL
    are fetched by hand: `check` and `download` say from where and where to put them.
    """


@weights_command.command("list")
@_DIR
def list_command(weights_dir: Path | None) -> None:
    """Every file, its group, canonical URL, published hash (if any), licence and what reads it."""
    table = Table(title=f"weights (directory {weights_dir or default_weights_dir()})")
    for column in ("name", "group", "file", "url", "publisher's sha256", "licence", "used by"):
        table.add_column(column, overflow="fold")
    for w in WEIGHTS:
        published = w.sha256 or (f"{w.sha256_prefix}… (prefix)" if w.sha256_prefix else "none: recorded at download")
        table.add_row(w.name, w.group, w.filename, w.url or f"(by hand) {w.note}", published, w.licence, w.used_by)
    Console(width=200).print(table)


@weights_command.command("download")
@click.argument("names", nargs=-1, required=True)
@_DIR
@_LOCK
def download_command(names: tuple[str, ...], weights_dir: Path | None, lock_path: Path | None) -> None:
    """Download NAME... (or `all`) into the weights directory, verifying each file's sha256."""
    console = Console()
    try:
        chosen = select(names)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    lock, failures = _lock(weights_dir, lock_path), 0
    for weight in chosen:
        try:
            path = download(weight, weights_dir, lock=lock)
            console.print(f"[green]ok[/] {weight.name}: {path}")
        except WeightsError as error:
            failures += 1
            console.print(f"[red]failed[/] {weight.name}: {error}")
    if failures:
        raise SystemExit(1)


@weights_command.command("check")
@click.argument("names", nargs=-1)
@_DIR
@_LOCK
def check_command(names: tuple[str, ...], weights_dir: Path | None, lock_path: Path | None) -> None:
    """Verify the hashes of NAME... (default: all) and say what is missing; exit status 1 unless all are ok."""
    try:
        chosen = select(names or ("all",))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    results = check(chosen, weights_dir, lock=_lock(weights_dir, lock_path))
    table = Table()
    for column in ("name", "status", "path", "detail"):
        table.add_column(column, overflow="fold")
    colours = {"ok": "green", "missing": "yellow", "mismatch": "red", "unrecorded": "yellow"}
    for r in results:
        table.add_row(r.weight.name, f"[{colours[r.status]}]{r.status}[/]", str(r.path), r.detail)
    Console(width=160).print(table)
    if any(r.status != "ok" for r in results):
        raise SystemExit(1)
