"""The `backdrop` command line. Each subcommand lives in its own module, imported only when that subcommand runs:
`backdrop --help` and `--version` import none of them (and so neither torch, Ray nor OpenCV)."""

from __future__ import annotations

import importlib

import click

#: name -> (module:attribute of the click command, one line of help). The help is written here so that listing the
#: subcommands imports nothing; `tests/jobs/test_cli.py` checks that every entry resolves to a command of that name.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("jobs.synth_command:synth", "Render synthetic human clips with exact ground truth."),
    "demo": (
        "jobs.demo_command:demo",
        "The main job on the embedded default: a synthetic corpus curated into shards, a tiny model trained on them.",
    ),
    "curate": ("jobs.curate_command:curate_command", "Curate videos into schema-v1 shards (a Ray Data job)."),
    "inspect": ("jobs.inspect_command:inspect_command", "Run the curation stages on one video: results and overlays."),
    "shards": ("jobs.shards_command:shards_command", "Inspect a curate job's shards: summary and an overlay."),
    "score": ("jobs.score_command:score_command", "Score generated videos against references under a protocol."),
    "reference-rows": (
        "jobs.reference_rows_command:reference_rows_command",
        "Training-free rows (ground truth, frozen and shifted background) of ground-truth clips.",
    ),
    "bench": (
        "jobs.bench_command:bench_command",
        "Benchmarks from curated test shards: define, export inputs for outside models, run (generate and score).",
    ),
    "leaderboard": (
        "jobs.leaderboard_command:leaderboard_command",
        "The static HTML leaderboard of benchmark results (tables per protocol, intervals, plots, frames).",
    ),
    "train": ("jobs.train_command:train_command", "Train a reference model on curated shards (Ray Train)."),
    "generate": (
        "jobs.generate_command:generate_command",
        "Generate one video per test clip of a shard set with a trained run (Ray).",
    ),
    "weights": ("jobs.weights_command:weights_command", "List, download (verified) and check weights files."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module, _, attribute = SUBCOMMANDS[cmd_name][0].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_line) for name, (_, help_line) in SUBCOMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="backdrop")
def cli() -> None:
    """backdrop: human-video datasets in which the background moves, and the benchmark for models trained on them.

    Run `backdrop SUBCOMMAND --help` for the options of each.
    """


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
