"""How the command line talks: the standard `logging` module underneath (so a user's handlers work), a rich handler
on a terminal and plain timestamped lines otherwise (a cluster's job log), and one switch for how much is said:
`--quiet` (warnings and errors only), the default (progress and summaries), `--verbose` (debug, and Ray's own
start-up output)."""

from __future__ import annotations

import logging
import sys

import click

QUIET, NORMAL, VERBOSE = -1, 0, 1
#: The packages whose loggers the command line configures.
PACKAGES = ("curation", "benchmark", "models", "jobs")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_of(verbosity: int) -> int:
    return {QUIET: logging.WARNING, NORMAL: logging.INFO, VERBOSE: logging.DEBUG}[verbosity]


def configure_logging(verbosity: int = NORMAL, *, terminal: bool | None = None) -> logging.Handler | None:
    """Send backdrop's log records to stderr at the level `verbosity` asks for: through rich on a terminal, as plain
    lines otherwise. Adds no handler when the root logger already has one (the user's); returns the handler added."""
    for name in PACKAGES:
        logging.getLogger(name).setLevel(level_of(verbosity))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_backdrop", False):  # ours, from an earlier command in this process
            root.removeHandler(handler)
    if root.handlers:
        return None
    terminal = sys.stderr.isatty() if terminal is None else terminal
    if terminal:
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False, log_time_format="%X")
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler._backdrop = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return handler


quiet_option = click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors (no progress, no summary).")
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Say more: debug messages, and Ray's own start-up and worker output."
)


def verbosity_of(quiet: bool, verbose: bool) -> int:
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    return QUIET if quiet else VERBOSE if verbose else NORMAL
