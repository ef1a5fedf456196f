"""`backdrop leaderboard RESULTS... --out report.html`: the static HTML leaderboard (benchmark.leaderboard)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["leaderboard_command"]


@click.command("leaderboard")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The HTML file.")
@click.option("--title", default=None, help="The page's title.")
def leaderboard_command(results: tuple[Path, ...], out: Path, title: str | None) -> None:
    """Write one static HTML file (no server, no network) from result files or folders (`bench run` results, a
    benchmark folder with its training-free rows): a sortable table per protocol with intervals, plots, frames."""
    from benchmark.leaderboard import write_leaderboard

    try:
        path = write_leaderboard(results, out, title=title)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"leaderboard: {path.resolve()}")
