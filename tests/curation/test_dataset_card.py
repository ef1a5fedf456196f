"""The dataset card renders (Markdown converted to HTML, its tables read back) and agrees with the manifest; its
images exist; the licences follow the backends that made the data."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import markdown
import pandas as pd
import pytest
import yaml

from curation.config import config_from_dict
from curation.dataset_card import card_markdown
from curation.pipeline.job import run_job, sequential_engine
from curation.pipeline.job_identity import read_identity
from curation.shards.dataset_stats import dataset_stats
from curation.video.source_lists import resolve_sources
from tests.helpers.jobs import OPTIONS, TINY_CONFIG

#: Rejects clips with two persons, so the card has a reasons table too.
FILTERED = {**TINY_CONFIG, "filters": [{"score": "person_count", "max": 1}]}


@pytest.fixture(scope="module")
def carded(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("carded")
    options = dataclasses.replace(OPTIONS, test_fraction=0.5)
    run_job(resolve_sources([tiny_corpus]), out, sequential_engine(config_from_dict(FILTERED)), options)
    return out


def _render(text: str) -> tuple[dict, ET.Element]:
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    html = markdown.markdown(body, extensions=["tables", "fenced_code"])
    return yaml.safe_load(front), ET.fromstring(f"<div>{html}</div>")


def _tables(root: ET.Element) -> dict[str, list[dict[str, str]]]:
    """Each table by the text of the paragraph or heading before it, as rows of {header: cell}."""
    tables, before = {}, ""
    for element in root:
        if element.tag == "table":
            header = [th.text or "" for th in element.iter("th")]
            rows = [[("".join(td.itertext())) for td in tr.iter("td")] for tr in element.iter("tr")]
            tables[before] = [dict(zip(header, row, strict=True)) for row in rows if row]
        else:
            before = "".join(element.itertext()).strip() or before
    return tables


def test_card_renders_and_agrees_with_the_manifest(carded: Path) -> None:
    front, root = _render((carded / "README.md").read_text(encoding="utf-8"))
    manifest = pd.read_parquet(carded / "manifest.parquet")
    kept = manifest[manifest["status"] == "ok"]
    assert front["license"] == "other" and front["license_name"] == "source-videos"
    files = front["configs"][0]["data_files"]
    assert {f["split"] for f in files} == set(kept["split"]) and all(f["path"].startswith("shards/") for f in files)
    tables = _tables(root)
    by_split = {row["split"]: row for row in tables["By split (a source's clips all go to one split):"]}
    for split, rows in manifest.groupby("split"):
        assert int(by_split[split]["clips"]) == len(rows)
        assert int(by_split[split]["kept"]) == int(by_split[split]["samples"]) == (rows["status"] == "ok").sum()
        assert int(by_split[split]["sources"]) == rows["source_id"].nunique()
        assert int(by_split[split]["shards"]) == rows["shard"].nunique()
    status = {row["status"]: int(row["clips"]) for row in tables["By status:"]}
    assert status == manifest["status"].value_counts().to_dict() and status.get("rejected", 0) > 0
    labels = {row["camera label"]: row for row in tables["Kept clips by camera label:"]}
    for (label, split), count in kept.groupby(["camera_label", "split"]).size().items():
        assert int(labels[label][split]) == count
    reasons = tables["Clips not kept, by reason:"]
    assert sum(int(r["clips"]) for r in reasons) == (manifest["status"] != "ok").sum()
    assert all(r["reason"].startswith("person_count 2 > max 1") for r in reasons)
    made = {row["what"]: row["value"] for row in tables["How it was made"]}
    assert made["settings sha256"] == read_identity(carded)["settings_sha256"]
    assert int(made["sources"]) == manifest["source"].nunique() and made["test fraction (per source)"] == "0.5"
    images = [img.get("src") for img in root.iter("img")]
    assert images == ["card/score_histograms.png", "card/contact_sheet.jpg"]
    for image in images:
        picture = cv2.imread(str(carded / image))
        assert picture is not None and picture.shape[0] > 100 and picture.shape[1] > 200, image
    licences = {row["part"]: row["licence"] for row in tables["Licences"]}
    assert not any("CC-BY-NC" in licence for licence in licences.values())


def test_cotracker_tracks_make_the_card_non_commercial(carded: Path) -> None:
    identity = read_identity(carded)
    identity["settings"]["curation"]["tracks"]["backend"] = "cotracker3"
    text = card_markdown("x", dataset_stats(carded), identity, [], [])
    front, root = _render(text)
    assert front["license"] == "cc-by-nc-4.0" and "license_name" not in front
    licences = {row["part"]: row["licence"] for row in _tables(root)["Licences"]}
    assert licences["CoTracker3 (background tracks)"].startswith("CC-BY-NC 4.0")
