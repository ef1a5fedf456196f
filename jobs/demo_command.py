"""`backdrop demo`: the main job on the embedded default. Renders the synthetic corpus, then curates it into shards
(the same `curate` job as `backdrop curate`, on a local Ray by default) and prints the job's summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Console

from curation.pipeline.job import JobOptions
from curation.synthetic.clip import SynthConfig
from curation.video.source_lists import resolve_sources
from jobs.cli_options import address_option, engine_option, num_cpus_option
from jobs.curate_command import curate
from jobs.synth_command import generate_corpus

#: The demo's curation settings: 24-frame clips at a 256-pixel short side keep the CPU time of the weights-free
#: backends moderate (a laptop or a 2-core CI machine); no pyiqa metric, since the demo never needs weights.
DEMO_CONFIG: dict[str, Any] = {
    "clips": {"frames": 24, "short_side": 256},
    "tracks": {"grid_step": 16},
    "quality": {"pyiqa": []},
}


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
@engine_option
@address_option
@num_cpus_option
def demo(out: Path, n: int, seed: int, engine_name: str, address: str | None, num_cpus: int | None) -> None:
    """The main job on the embedded default: render a small synthetic corpus (one clip per camera recipe) into
    OUT/synthetic, curate it into schema-v1 shards under OUT/curated, and print both summaries.

    Run again, it keeps the rendered clips and the curated sources and only repacks.
    """
    console = Console()
    console.print(f"[bold]backdrop demo[/]: synthetic corpus of {n} clips -> {out / 'synthetic'}")
    generate_corpus(n, out / "synthetic", seed, SynthConfig(), workers=2, console=console)
    config_path = out / "curation.yaml"
    config_path.write_text(yaml.safe_dump(DEMO_CONFIG, sort_keys=False))
    console.print(f"[bold]backdrop demo[/]: curating it with {config_path} ({engine_name}) -> {out / 'curated'}")
    curate(
        resolve_sources([out / "synthetic"]),
        out / "curated",
        config_path,
        address=address,
        engine_name=engine_name,
        num_cpus=num_cpus,
        options=JobOptions(test_fraction=0.2, shard_mb=64.0),
    )
    console.print(f"next: backdrop shards inspect {out / 'curated'} --overlay {out / 'sample.overlay.mp4'}")
