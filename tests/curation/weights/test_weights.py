"""The weights registry and downloader against a loopback HTTP server started here (no network)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from curation import weights as w
from curation.weights import registry

PAYLOAD = b"tiny weights file " * 1000


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    cut: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A "cut" file announces its full length but the connection ends half-way.
        self.wfile.write(body[: len(body) // 2] if self.path in self.cut else body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.files = {"/good.bin": PAYLOAD, "/cut.bin": PAYLOAD}
    _Handler.cut = {"/cut.bin"}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _entry(url: str, **kwargs: object) -> w.WeightFile:
    return w.WeightFile("test-file", "test", "file.bin", url, "test", **kwargs)  # type: ignore[arg-type]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def test_publisher_hash_match_is_kept(server: str, tmp_path: Path) -> None:
    entry = _entry(f"{server}/good.bin", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    path = w.download(entry, tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert [r.status for r in w.check([entry], tmp_path)] == ["ok"]
    assert not (tmp_path / w.LOCK_NAME).exists()  # the publisher's hash is not copied into the lock


def test_hash_mismatch_is_refused_and_nothing_left(server: str, tmp_path: Path) -> None:
    entry = _entry(f"{server}/good.bin", sha256="0" * 64)
    with pytest.raises(w.WeightsError, match="refused"):
        w.download(entry, tmp_path)
    assert not (tmp_path / "file.bin").exists()
    assert _leftovers(tmp_path) == []
    prefixed = _entry(f"{server}/good.bin", sha256_prefix="ffffffff")
    with pytest.raises(w.WeightsError, match="does not start with"):
        w.download(prefixed, tmp_path)
    assert not (tmp_path / "file.bin").exists()


def test_cut_transfer_leaves_no_partial_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(w.WeightsError):
        w.download(_entry(f"{server}/cut.bin"), tmp_path, timeout=10)
    assert not (tmp_path / "file.bin").exists()
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / w.LOCK_NAME).exists()  # no hash recorded for a file nobody received whole


def test_missing_url_and_404(server: str, tmp_path: Path) -> None:
    with pytest.raises(w.WeightsError, match="download failed"):
        w.download(_entry(f"{server}/absent.bin"), tmp_path)
    with pytest.raises(w.WeightsError, match="by hand"):
        w.download(_entry(None), tmp_path)  # type: ignore[arg-type]
    with pytest.raises(w.WeightsError, match="only https"):
        w.download(_entry("http://example.com/file.bin"), tmp_path)
    assert _leftovers(tmp_path) == []


def test_first_download_records_hash_and_check_verifies_it(server: str, tmp_path: Path) -> None:
    entry = _entry(f"{server}/good.bin")
    w.download(entry, tmp_path)
    lock = w.Lock(tmp_path / w.LOCK_NAME)
    assert lock.sha256("file.bin") == hashlib.sha256(PAYLOAD).hexdigest()
    assert [r.status for r in w.check([entry], tmp_path)] == ["ok"]
    (tmp_path / "file.bin").write_bytes(PAYLOAD + b"tampered")
    [result] = w.check([entry], tmp_path)
    assert result.status == "mismatch" and "lock" in result.detail
    (tmp_path / "file.bin").unlink()
    assert [r.status for r in w.check([entry], tmp_path)] == ["missing"]


def test_registry_names_groups_and_hashes() -> None:
    assert len({x.filename for x in w.WEIGHTS}) == len(w.WEIGHTS)
    assert {x.name for x in w.select(["dwpose"])} == {"dwpose-detector", "dwpose-wholebody"}
    assert len(w.select(["all"])) == len(w.WEIGHTS)
    with pytest.raises(ValueError, match="unknown weights"):
        w.select(["nope"])
    for entry in w.WEIGHTS:
        assert entry.url is None or entry.url.startswith("https://")
        if entry.sha256:  # only hashes the publisher states in the URL are written down
            assert entry.sha256 in (entry.url or "")
        if entry.sha256_prefix:
            assert entry.sha256_prefix in entry.filename


def test_cli_download_and_check(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jobs.weights_command as command

    entry = replace(w.REGISTRY["dwpose-detector"], url=f"{server}/good.bin")
    monkeypatch.setattr(registry, "WEIGHTS", (entry,))  # what `select` reads
    monkeypatch.setattr(command, "WEIGHTS", (entry,))
    runner = CliRunner()
    result = runner.invoke(command.weights_command, ["check", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "missing" in result.output
    result = runner.invoke(command.weights_command, ["download", "all", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(command.weights_command, ["check", "--dir", str(tmp_path)])
    assert result.exit_code == 0 and "ok" in result.output
    assert (tmp_path / "yolox_l.onnx").read_bytes() == PAYLOAD


def test_every_backend_and_metric_file_is_in_the_registry() -> None:
    from benchmark.protocol import NETWORKS
    from curation.quality.iqa import IQA_METRICS

    files = {x.filename for x in w.WEIGHTS}
    assert {w.REGISTRY[spec.weights].filename for spec in IQA_METRICS.values()} <= files
    assert {spec.weights.filename for spec in NETWORKS.values()} <= files
    # and by name: a network or a metric names its file by the registry's name, nothing else
    assert {spec.weights for spec in IQA_METRICS.values()} <= set(w.REGISTRY)
    assert set(NETWORKS) <= set(w.REGISTRY)
    for name in (
        "dwpose-detector",
        "dwpose-wholebody",
        "sam2.1-tiny",
        "sam2.1-large",
        "cotracker3-offline",
        "cotracker3-online",
    ):
        assert name in w.REGISTRY


def test_check_and_download_agree_over_the_whole_registry(tmp_path: Path) -> None:
    """`check` suggests `download NAME` only where `download` has a URL; for the others both say the same thing:
    where to get the file by hand and where to put it."""
    results = {r.weight.name: r for r in w.check(w.WEIGHTS, tmp_path)}
    assert set(results) == set(w.REGISTRY)
    for entry in w.WEIGHTS:
        result = results[entry.name]
        assert result.status == "missing" and result.path == tmp_path / entry.filename
        assert entry.url or entry.note, f"{entry.name}: neither a URL nor a note on where to get it"
        if entry.url:
            assert f"`backdrop weights download {entry.name} --dir {tmp_path}`" in result.detail
        else:
            assert "backdrop weights download" not in result.detail
            assert entry.note in result.detail and str(result.path) in result.detail
            with pytest.raises(w.WeightsError) as refused:
                w.download(entry, tmp_path)  # no URL: nothing is fetched, the same sentence is said
            assert str(refused.value) == result.detail
    assert any(entry.url is None for entry in w.WEIGHTS)  # the by-hand branch is exercised


def test_cli_check_and_download_of_a_by_hand_entry(tmp_path: Path) -> None:
    import jobs.weights_command as command

    runner = CliRunner()
    checked = runner.invoke(command.weights_command, ["check", "fidvid-r3d50", "--dir", str(tmp_path)])
    downloaded = runner.invoke(command.weights_command, ["download", "fidvid-r3d50", "--dir", str(tmp_path)])
    assert checked.exit_code == 1 and downloaded.exit_code == 1
    for output in (checked.output, downloaded.output):
        flat = " ".join(output.replace("│", " ").split())  # the table folds long cells over several lines
        assert "by hand" in flat and "3D-ResNets-PyTorch" in flat and "backdrop weights download" not in flat
    unknown = runner.invoke(command.weights_command, ["download", "i3d-400", "--dir", str(tmp_path)])
    assert unknown.exit_code != 0 and "unknown weights 'i3d-400'" in unknown.output
    assert not any(tmp_path.iterdir())
