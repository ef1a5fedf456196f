"""The small synthetic ground-truth corpus of the background suite's and the reference rows' tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import write_corpus

CONFIG = SynthConfig(width=256, height=256, frames=24, fps=24.0, grid_step=16)
# static, pan_left, tilt_down, zoom_in, roll, shake: the static clip and every kind of camera motion
CHOSEN = (0, 1, 4, 5, 7, 8)


def write_reference_corpus(corpus: Path, ref: Path) -> Path:
    """Render the corpus into `corpus` and copy the CHOSEN clips (mp4, ground truth, plan) into `ref`."""
    written = write_corpus(max(CHOSEN) + 1, corpus, seed=5, config=CONFIG)
    for clip in (written[i] for i in CHOSEN):
        for suffix in (".mp4", ".gt.npz", ".json"):
            shutil.copyfile(corpus / f"{clip.name}{suffix}", ref / f"{clip.name}{suffix}")
    return ref


def moving_keys(reference: Path) -> list[str]:
    """Keys of the clips whose camera moves."""
    keys = [p.stem for p in sorted(reference.glob("*.mp4"))]
    return [k for k in keys if json.loads((reference / f"{k}.json").read_text())["camera_label"] != "static"]
