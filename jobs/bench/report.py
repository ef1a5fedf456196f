"""Shared helpers for the performance reports: the command line, the machine, the file."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np

REPORTS = Path(__file__).resolve().parents[2] / "reports"


def machine_line() -> str:
    """One line naming the machine the figures come from, since timings are meaningless without it."""
    import torch

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs,"
        f" Python {platform.python_version()}, numpy {np.__version__},"
        f" torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )


def write_report(name: str, module: str, body: str) -> Path:
    """Write reports/NAME.md with the exact command at the top; returns the path."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    args = " ".join(sys.argv[1:])
    command = f"python -m {module}" + (f" {args}" if args else "")
    path = REPORTS / f"{name}.md"
    path.write_text(f"<!-- made by: {command} -->\n\nCommand: `{command}`\n\nMachine: {machine_line()}\n\n{body}")
    return path
