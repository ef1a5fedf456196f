"""The `backdrop` command line. Each subcommand lives in its own module and is registered here."""

from __future__ import annotations

import click

from jobs.curate_command import curate_command
from jobs.demo_command import demo
from jobs.inspect_command import inspect_command
from jobs.reference_rows_command import reference_rows_command
from jobs.score_command import score_command
from jobs.shards_command import shards_command
from jobs.synth_command import synth
from jobs.weights_command import weights_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="backdrop")
def cli() -> None:
    """backdrop: human-video datasets in which the background moves, and the benchmark for models trained on them.

    \b
    Subcommands:
      synth   render synthetic human clips with exact ground truth (pose, masks, camera, background tracks)
      demo    the main job on the embedded default: a small synthetic corpus, curated into shards
      curate  curate videos into schema-v1 shards, a manifest and a wids index (a Ray Data job)
      inspect run the curation stages on one video: per-clip results and an overlay video
      shards  inspect a curate job's shards: summary, and one sample rendered as an overlay video
      score   score generated videos against references under a named protocol (FVD, FID, FID-VID, PSNR,
              background-motion suite, ...)
      reference-rows  the training-free rows (ground truth, frozen and shifted background) of ground-truth clips
      weights list, download (verified) and check the weights of the learned backends and metrics

    Run `backdrop SUBCOMMAND --help` for the options of each.
    """


for command in (
    synth,
    demo,
    curate_command,
    inspect_command,
    shards_command,
    score_command,
    reference_rows_command,
    weights_command,
):
    cli.add_command(command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
