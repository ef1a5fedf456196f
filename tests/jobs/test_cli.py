"""The command line starts fast: listing and versioning import no subcommand, and every subcommand resolves."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from jobs.cli import SUBCOMMANDS, cli

HEAVY = ("torch", "ray", "cv2", "av", "curation", "benchmark", "pandas")


def test_help_and_version_import_no_subcommand() -> None:
    probe = (
        "import sys\nfrom jobs.cli import main\nsys.argv = ['backdrop', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    for flag in ("--help", "--version"):
        result = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True, text=True, check=True)
        assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_every_subcommand_resolves_and_is_listed() -> None:
    for name in SUBCOMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert isinstance(command, click.Command) and command.name == name
    listing = CliRunner().invoke(cli, ["--help"]).output
    assert all(name in listing for name in SUBCOMMANDS)
    unknown = CliRunner().invoke(cli, ["no-such-command"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output
