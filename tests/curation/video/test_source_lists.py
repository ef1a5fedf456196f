"""Which videos a job reads, as users name them: folders with GIFs and broken links, lists with a byte-order mark,
an empty list; and the CLI's answer when nothing is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from curation.video.source_lists import SourceListError, resolve_sources
from jobs.cli import cli


def test_a_folder_yields_gifs_and_broken_links_too(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "b.gif").write_bytes(b"GIF89a")
    (tmp_path / "c.mp4").symlink_to(tmp_path / "missing.mp4")
    (tmp_path / "notes.txt").write_text("not a video")
    assert resolve_sources([tmp_path]) == [str(tmp_path / n) for n in ("a.mp4", "b.gif", "c.mp4")]
    assert resolve_sources([tmp_path / "c.mp4"]) == [str(tmp_path / "c.mp4")]  # named: reported, not refused


def test_a_list_with_a_byte_order_mark_reads_its_first_path(tmp_path: Path) -> None:
    (tmp_path / "first.mp4").write_bytes(b"x")
    listing = tmp_path / "list.txt"
    listing.write_bytes("first.mp4\n# a comment\n\nsecond.mp4\n".encode("utf-8-sig"))
    assert resolve_sources([listing]) == [str(tmp_path / "first.mp4"), str(tmp_path / "second.mp4")]


def test_an_empty_list_is_refused_and_the_job_exits_non_zero(tmp_path: Path) -> None:
    listing = tmp_path / "empty.txt"
    listing.write_text("# nothing yet\n\n")
    with pytest.raises(SourceListError, match="names no video"):
        resolve_sources([listing])
    result = CliRunner().invoke(cli, ["curate", str(listing), "--out", str(tmp_path / "out"), "--engine", "sequential"])
    assert result.exit_code != 0 and "names no video" in result.output
    assert not (tmp_path / "out").exists()
