"""The dataset card: `OUT/README.md` in the form the Hugging Face hub shows (YAML front matter, then Markdown), with
its images in `OUT/card/`: how the dataset was made (settings, versions, sources), counts by split, status, reason
and camera label, score histograms, a contact sheet of sample frames with their overlays, and the licences that
apply. Written at the end of every curate job; every figure in it comes from the manifest, the shards' statistics
and the job's identity file, so it can be written again at any time (`backdrop shards card DIR`).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from curation.overlay import overlay_frame, overlay_layers
from curation.pipeline.job_identity import IDENTITY_FILE, read_identity
from curation.shards.dataset_stats import dataset_stats, read_manifest, shard_files
from curation.shards.schema import decode_members
from curation.shards.split import SPLITS
from curation.shards.tar_files import atomic_write, iter_tar, split_member_name
from curation.video.reader import read_video

CARD_FILE = "README.md"
CARD_FOLDER = "card"
HISTOGRAMS = f"{CARD_FOLDER}/score_histograms.png"
CONTACT_SHEET = f"{CARD_FOLDER}/contact_sheet.jpg"
SHEET_SAMPLES = 8  # one per camera label first, then in key order
SHEET_WIDTH = 256  # each tile's width in pixels

#: Licences of the parts that may have made a dataset's arrays and scores (README "Licences").
BACKEND_LICENCES = {
    ("pose", "dwpose"): ("DWPose (pose)", "Apache-2.0"),
    ("foreground", "sam2"): ("SAM 2 (foreground masks)", "Apache-2.0"),
    ("tracks", "cotracker3"): (
        "CoTracker3 (background tracks)",
        "CC-BY-NC 4.0: the tracks, and data curated with them, are for non-commercial use only",
    ),
}
PYIQA_LICENCE = "pyiqa (no-reference quality scores): a non-commercial licence"


def licences(settings: dict[str, Any], pyiqa_scores: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """The card's `license` field and the (part, licence) lines that apply under `settings` (the job's curation
    settings), given the pyiqa scores actually computed."""
    lines = [("backdrop (the curation code)", "Apache-2.0")]
    non_commercial = False
    for stage in ("pose", "foreground", "tracks"):
        backend = settings.get(stage, {}).get("backend")
        if (stage, backend) in BACKEND_LICENCES:
            part, licence = BACKEND_LICENCES[(stage, backend)]
            lines.append((part, licence))
            non_commercial |= "CC-BY-NC" in licence
    if pyiqa_scores:
        lines.append((f"{PYIQA_LICENCE.split(':')[0]}: {', '.join(pyiqa_scores)}", PYIQA_LICENCE.split(": ")[1]))
    lines.append(
        ("the source videos", "their own licences: each clip names its source (manifest `source`, JSON `source.uri`)")
    )
    return ("cc-by-nc-4.0" if non_commercial else "other"), lines


def render_score_histograms(manifest: Any, path: Path) -> list[str]:
    """One histogram per score of the manifest (kept clips and the others stacked); returns the scores drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [c for c in sorted(manifest.columns) if c.startswith("score_") and manifest[c].notna().any()]
    cols = 3
    rows = max(1, math.ceil(len(columns) / cols))
    figure, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    kept = manifest["status"] == "ok"
    for ax, column in zip(axes.flat, columns, strict=False):
        values = manifest[column].astype(float)
        finite = values[np.isfinite(values)]
        bins = np.histogram_bin_edges(finite, bins=20) if len(finite) else 10
        ax.hist([values[kept].dropna(), values[~kept].dropna()], bins=bins, stacked=True, label=["kept", "not kept"])
        ax.set_title(column.removeprefix("score_"), fontsize=10)
        ax.set_ylabel("clips", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    if columns:
        axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(figure)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
    return [c.removeprefix("score_") for c in columns]


def _sheet_keys(manifest: Any, count: int) -> list[str]:
    kept = manifest[(manifest["status"] == "ok") & manifest["shard"].notna()].sort_values("key")
    chosen = list(kept.groupby("camera_label", sort=True)["key"].first())[:count]
    for key in kept["key"]:
        if len(chosen) >= count:
            break
        if key not in chosen:
            chosen.append(key)
    return sorted(chosen)


def _samples(out: Path, keys: set[str]) -> dict[str, dict[str, bytes]]:
    found: dict[str, dict[str, bytes]] = {}
    for split in SPLITS:
        for shard in shard_files(out)[split]:
            for name, data in iter_tar(shard):
                key, member = split_member_name(name)
                if key in keys:
                    found.setdefault(key, {})[member] = data
    return found


def render_contact_sheet(out: Path, manifest: Any, path: Path, count: int = SHEET_SAMPLES) -> list[str]:
    """The middle frame of up to `count` kept samples with their overlays, in a grid; returns their keys."""
    import cv2

    keys = _sheet_keys(manifest, count)
    samples = _samples(out, set(keys))
    tiles = []
    for key in keys:
        sample = decode_members(samples[key])
        frames = read_video(sample["mp4"])
        meta = sample["json"]
        tile = overlay_frame(frames, len(frames) // 2, **overlay_layers(sample, meta["camera"]["label"]))
        scale = SHEET_WIDTH / tile.shape[1]
        tiles.append(cv2.resize(tile, (SHEET_WIDTH, round(tile.shape[0] * scale)), interpolation=cv2.INTER_AREA))
    if not tiles:
        return []
    height = max(t.shape[0] for t in tiles)
    cols = min(4, len(tiles))
    rows = math.ceil(len(tiles) / cols)
    sheet = np.full((rows * height, cols * SHEET_WIDTH, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        sheet[r * height : r * height + tile.shape[0], c * SHEET_WIDTH : (c + 1) * SHEET_WIDTH] = tile
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise ValueError(f"{path}: the contact sheet could not be encoded")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: handle.write(encoded.tobytes()))
    return keys


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _size_category(clips: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if clips < bound:
            return name
    return "n>1M"


def card_markdown(
    name: str, stats: dict[str, Any], identity: dict[str, Any], scores: list[str], sheet_keys: list[str]
) -> str:
    """The card's text (front matter and Markdown) from the dataset's statistics and the job's identity."""
    settings = identity.get("settings", {})
    curation = settings.get("curation", {})
    pyiqa = [s for s in curation.get("quality", {}).get("pyiqa", []) if stats["scores"].get(s, {}).get("count")]
    licence, licence_lines = licences(curation, pyiqa)
    splits = stats["splits"]
    front: dict[str, Any] = {
        "pretty_name": f"{name} (backdrop curated clips)",
        "license": licence,
    }
    if licence == "other":
        front["license_name"] = "source-videos"  # the clips are cut from them: their licences apply
    front.update(
        {
            "task_categories": ["image-to-video"],
            "tags": ["backdrop", "webdataset", "human-video", "pose", "point-tracking", "camera-motion"],
            "size_categories": [_size_category(sum(s["samples"] for s in splits.values()))],
            "configs": [
                {
                    "config_name": "default",
                    "data_files": [
                        {"split": split, "path": f"shards/{split}-*.tar"} for split in SPLITS if splits[split]["shards"]
                    ],
                }
            ],
        }
    )
    clips = curation.get("clips", {})
    split = settings.get("split", {})
    backends = identity.get("backends", {})
    text = ["---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "", f"# {name}", ""]
    text += [
        "Human video clips with the person's pose, a foreground mask, background point tracks (masked by the "
        "inverse foreground mask) and the camera's motion, curated by "
        "backdrop into WebDataset shards (schema version 1). "
        f"{stats['sources']} source videos gave {stats['clips']} clips, "
        f"{sum(s['samples'] for s in splits.values())} of them kept.",
        "",
        "## How it was made",
        "",
        _table(
            ["what", "value"],
            [
                ["backdrop version", identity.get("backdrop_version", "?")],
                ["settings sha256", f"`{identity.get('settings_sha256', '?')}`"],
                ["sources", stats["sources"]],
                ["clip frames", clips.get("frames")],
                ["clip fps", clips.get("fps") or "the source's"],
                ["clip short side", clips.get("short_side") or "the source's"],
                ["test fraction (per source)", split.get("test_fraction")],
                ["filters", len(curation.get("filters", []))],
            ],
        ),
        "",
        f"Every setting (the curation configuration with its defaults, and the split) is in `{IDENTITY_FILE}`, whose "
        "`settings_sha256` every sample's JSON (`job`) and the manifest's metadata repeat.",
        "",
        "Backends (as the clips recorded them):",
        "",
        _table(["stage", "backend"], [[stage, ", ".join(names)] for stage, names in sorted(backends.items())]),
        "",
        "## Counts",
        "",
        "By split (a source's clips all go to one split):",
        "",
        _table(
            ["split", "sources", "clips", "kept", "shards", "samples", "duration (s)"],
            [
                [s, v["sources"], v["clips"], v["kept"], v["shards"], v["samples"], f"{v['duration_s']:.1f}"]
                for s, v in splits.items()
            ],
        ),
        "",
        "By status:",
        "",
        _table(["status", "clips"], [[status, count] for status, count in stats["status"].items()]),
        "",
        "Kept clips by camera label:",
        "",
        _table(
            ["camera label", *SPLITS],
            [[label, *(counts[s] for s in SPLITS)] for label, counts in stats["camera_labels"].items()],
        ),
        "",
    ]
    if stats["reasons"]:
        text += [
            "Clips not kept, by reason:",
            "",
            _table(
                ["status", "stage", "reason", "clips"],
                [[r["status"], r["stage"], r["reason"][:160], r["clips"]] for r in stats["reasons"]],
            ),
            "",
        ]
    text += ["## Scores", ""]
    if scores:
        text += [
            f"![score histograms]({HISTOGRAMS})",
            "",
            "Of the kept clips (definitions: backdrop's docs/curation.md, Scores):",
            "",
            _table(
                ["score", "clips", "missing", "mean", "median", "min", "max"],
                [
                    [
                        name,
                        s["count"],
                        s["missing"],
                        _number(s["mean"]),
                        _number(s["median"]),
                        _number(s["min"]),
                        _number(s["max"]),
                    ]
                    for name, s in stats["scores"].items()
                ],
            ),
            "",
        ]
    else:
        text += ["No clip has a score.", ""]
    if sheet_keys:
        text += [
            "## Samples",
            "",
            f"![contact sheet]({CONTACT_SHEET})",
            "",
            "The middle frame of " + ", ".join(f"`{k}`" for k in sheet_keys) + ": person tinted magenta, kept "
            "background tracks green, masked-out tracks orange, the camera's motion as a cyan ring and arrow (an arc "
            "for a roll); the legend is under each frame.",
            "",
        ]
    text += [
        "## Licences",
        "",
        _table(["part", "licence"], [list(line) for line in licence_lines]),
        "",
        "## Reading it",
        "",
        "```python",
        "from curation.shards.reader import shard_dataset",
        "",
        'for sample in shard_dataset("PATH/TO/THIS/FOLDER", split="train"):',
        '    print(sample["__key__"], sample["frames"].shape, sample["pose"].shape, sample["tracks"].shape)',
        "```",
        "",
        "Files: `shards/{split}-NNNNNN.tar` (samples), `shards/{split}.index.json` (wids index), "
        "`shards/{split}-NNNNNN_stats.json` (per-shard statistics), `manifest.parquet` (one row per clip, kept or "
        f"not, with the reason), `{IDENTITY_FILE}` (settings and versions).",
        "",
    ]
    return "\n".join(text)


def write_dataset_card(out: str | os.PathLike) -> Path:
    """Write `OUT/README.md` and its images in `OUT/card/`; returns the card's path."""
    out = Path(out)
    manifest = read_manifest(out)
    stats = dataset_stats(out)
    identity = read_identity(out) or {}
    scores = render_score_histograms(manifest, out / HISTOGRAMS)
    sheet = render_contact_sheet(out, manifest, out / CONTACT_SHEET)
    if not sheet:
        (out / CONTACT_SHEET).unlink(missing_ok=True)
    text = card_markdown(out.resolve().name, stats, identity, scores, sheet).encode()
    atomic_write(out / CARD_FILE, lambda handle: handle.write(text))
    return out / CARD_FILE
