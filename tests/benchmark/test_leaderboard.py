"""The HTML leaderboard opened in headless Chromium (Debian's package, installed by `make browser`, a prerequisite
of `make test`): its tables hold the Parquet's rows and values, sorting works, every plot and image loads, the page
makes no network request, and rows of different protocols never share a table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from benchmark.leaderboard import read_result_rows, write_leaderboard
from benchmark.training_free import TRAINING_FREE_ROWS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def page_file(bench, tmp_path_factory) -> Path:
    """The leaderboard of the benchmark's training-free rows, plus one row under another protocol."""
    other = tmp_path_factory.mktemp("other")
    rows = json.loads((bench.rows_dir / "ground-truth.json").read_text())
    for r in rows:
        r.update(protocol="other-protocol", model="elsewhere")
    (other / "elsewhere.json").write_text(json.dumps(rows))
    return write_leaderboard([bench.path, other], tmp_path_factory.mktemp("html") / "report.html")


def _open(page_file: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "no /usr/bin/chromium: run `make browser` (Debian's chromium package)"
    manager = sync_playwright().start()
    context = manager.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    return manager, context, page, requests


def _column(page, table: str, metric: str) -> list[float]:
    index = page.eval_on_selector(
        f"{table} thead tr", f"tr => Array.from(tr.cells).findIndex(c => c.dataset.metric === '{metric}')"
    )
    return page.eval_on_selector_all(
        f"{table} tbody tr", f"rows => rows.map(r => parseFloat(r.cells[{index}].dataset.value))"
    )


def test_the_leaderboard_in_chromium(bench, page_file, tmp_path):
    manager, context, page, requests = _open(page_file, tmp_path)
    try:
        tables = page.eval_on_selector_all("table.leaderboard", "ts => ts.map(t => t.dataset.protocol)")
        assert sorted(tables) == ["bd16-px128-free", "other-protocol"]  # never two protocols in one table
        table = "#table-bd16-px128-free"
        models = page.eval_on_selector_all(f"{table} tbody tr", "rows => rows.map(r => r.dataset.model)")
        assert models == list(TRAINING_FREE_ROWS)
        # every value against the Parquet the rows were written to
        for row in TRAINING_FREE_ROWS:
            frame = pd.read_parquet(bench.rows_dir / f"{row}.parquet")
            for metric, value in zip(frame["metric"], frame["value"], strict=True):
                shown = page.eval_on_selector(
                    f"{table} tr[data-model='{row}']",
                    f"tr => tr.querySelector(\"td[data-metric='{metric}']\")"
                    f" ? tr.querySelector(\"td[data-metric='{metric}']\").dataset.value : 'NaN'",
                )
                if math.isnan(value):
                    assert shown == "NaN"
                else:
                    assert float(shown) == pytest.approx(value, rel=1e-12), (row, metric)
        # sorting: ascending, then descending, on a click of the column header
        before = _column(page, table, "bg-track")
        page.click(f"{table} th[data-metric='bg-track']")
        assert _column(page, table, "bg-track") == sorted(before)
        page.click(f"{table} th[data-metric='bg-track']")
        assert _column(page, table, "bg-track") == sorted(before, reverse=True)
        assert page.get_attribute(f"{table} th[data-metric='bg-track']", "aria-sort") == "descending"
        # every plot and image loaded
        images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])")
        assert len(images) >= 2 * 3 + 3  # per protocol: metric plot, by label, dynamics; strips of 3 clips
        assert all(complete and width > 0 for complete, width, _ in images), images
        # no request but the page itself (data: URIs are not requests)
        assert requests == [page_file.as_uri()], requests
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=True)
        assert (tmp_path / "shot.png").stat().st_size > 10_000
    finally:
        context.close()
        manager.stop()


def test_the_page_is_one_file_without_network_references(page_file):
    text = page_file.read_text()
    for marker in ("http://", "https://", "//cdn", "<link", 'src="/', "url("):
        assert marker not in text, marker
    assert text.count("data:image/png;base64,") >= 9


def test_read_result_rows_refuses_a_folder_without_rows(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="no result rows"):
        read_result_rows([tmp_path])
