"""`backdrop demo`: the main job on the embedded default."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from curation.synthetic.clip import SynthConfig
from jobs.synth_command import generate_corpus


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("out/demo"), show_default=True,
              help="Output folder.")
@click.option("--n", "n", type=click.IntRange(min=1), default=12, show_default=True,
              help="Clips in the synthetic corpus (12 cover every camera label).")
@click.option("--seed", type=int, default=0, show_default=True)
def demo(out: Path, n: int, seed: int) -> None:
    """The main job on the embedded default: render a small synthetic corpus (one clip per camera recipe)
    into OUT/synthetic and print what was made and where."""
    console = Console()
    console.print(f"[bold]backdrop demo[/]: synthetic corpus of {n} clips -> {out / 'synthetic'}")
    generate_corpus(n, out / "synthetic", seed, SynthConfig(), workers=2, console=console)
