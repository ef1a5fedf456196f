"""Options that several subcommands share, declared once so that their names, defaults and help agree."""

from __future__ import annotations

from pathlib import Path

import click

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Curation settings (YAML); defaults otherwise.",
)
engine_option = click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["ray", "sequential"]),
    default="ray",
    show_default=True,
    help="ray: the Ray Data pipeline (a local Ray, or --address); sequential: every stage in this process.",
)
address_option = click.option(
    "--address", default=None, help="Ray cluster address (else $RAY_ADDRESS, else a local Ray)."
)
num_cpus_option = click.option(
    "--num-cpus", type=click.IntRange(min=1), default=None, help="CPUs of the local Ray (default: all)."
)
