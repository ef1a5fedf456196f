"""`backdrop score` end to end on tiny mp4s with random-weight networks saved as local files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from benchmark.features import load_feature_net
from benchmark.metrics.base import ResultRow
from benchmark.metrics.lpips import build_lpips
from benchmark.protocol import NETWORKS, get_protocol, sha256_file
from benchmark.scoring import ScoreOptions, match_pairs, score
from benchmark.video import read_video
from jobs.cli import cli
from tests.helpers.videos import moving_square_video

COMMON_ROW_KEYS = {"metric", "value", "higher_is_better", "protocol", "protocol_view", "num_videos", "per_video"}
COMMON_ROW_KEYS |= {"pred_dir", "ref_dir", "backdrop_version"}
FRECHET_ROW_KEYS = COMMON_ROW_KEYS | {"num_feature_rows", "num_reference_rows", "reference_stats"}
PIXEL_ROW_KEYS = COMMON_ROW_KEYS | {"truncated_videos"}


def write_mp4(path: Path, video: np.ndarray, fps: int = 8) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = video.shape[2], video.shape[1], "yuv420p"
        stream.options = {"crf": "10"}
        for frame in video:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def make_set(folder: Path, videos: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, video in videos.items():
        write_mp4(folder / f"{key}.mp4", video)
    return folder


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory, i3d_net, inception_net, r3d_net) -> Path:
    """Random (BatchNorm-calibrated) weights under the canonical file names, saved as the checkpoints are laid out."""
    folder = tmp_path_factory.mktemp("weights")
    file = {name: folder / spec.weights.filename for name, spec in NETWORKS.items()}
    torch.save(i3d_net.module.state_dict(), file["fvd-i3d-400"])
    torch.save(inception_net.module.inception.state_dict(), file["fid-inception"])
    hara = {f"module.{k}": v for k, v in r3d_net.module.state_dict().items()}
    torch.save({"epoch": 1, "arch": "resnet-50", "state_dict": hara}, file["fidvid-r3d50"])
    torch.save(build_lpips().net.state_dict(), file["lpips-alex"])
    return folder


@pytest.fixture
def pair_folders(tmp_path) -> tuple[Path, Path]:
    refs = {f"clip{i:04d}": moving_square_video(16, (32, 48), seed=i) for i in range(3)}
    ref = make_set(tmp_path / "ref", refs)
    pred = tmp_path / "pred"
    shutil.copytree(ref, pred)  # identical sets
    return pred, ref


@pytest.mark.slow
def test_score_cli_end_to_end(pair_folders, weights_dir, tmp_path) -> None:
    pred, ref = pair_folders
    out = tmp_path / "results" / "run1"
    args = ["score", "--pred", str(pred), "--ref", str(ref), "--protocol", "bd16", "--out", str(out)]
    args += ["--metrics", "fvd,fid,fid-vid,psnr,ssim,lpips", "--weights-dir", str(weights_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "results" / "run1.json").read_text())
    by_metric = {r["metric"]: r for r in rows}
    assert set(by_metric) == {"fvd", "fid", "fid-vid", "psnr", "ssim", "lpips"}
    for r in rows:
        assert r["protocol"] == "bd16" and json.loads(r["protocol_view"])["protocol"] == "bd16"
        assert r["num_videos"] == 3
        assert r["model"] == "pred" and r["benchmark"] is None  # the generated folder's name; no dataset given
        # The keys rows had before the one row type (read from a run of that code): readers rely on them.
        before = FRECHET_ROW_KEYS if r["metric"] in ("fvd", "fid", "fid-vid") else PIXEL_ROW_KEYS
        assert before <= set(r), sorted(before - set(r))
        assert ResultRow.from_dict(r).to_dict() == r
    assert by_metric["psnr"]["unit"] == "dB" and by_metric["psnr"]["higher_is_better"] is True
    # identical sets
    for name in ("fvd", "fid", "fid-vid"):
        assert by_metric[name]["value"] <= 1e-6, name
    assert by_metric["fid"]["num_feature_rows"] == 48  # every frame of 3 videos
    assert json.loads(by_metric["fvd"]["protocol_view"])["weights_sha256"] is not None
    assert by_metric["psnr"]["per_video"] == {"clip0000": 80.0, "clip0001": 80.0, "clip0002": 80.0}
    assert by_metric["lpips"]["value"] == pytest.approx(0.0, abs=1e-6)
    table = pd.read_parquet(tmp_path / "results" / "run1.parquet")
    assert list(table["metric"]) == [r["metric"] for r in rows]
    long = pd.read_parquet(tmp_path / "results" / "run1.per_video.parquet")
    assert len(long) == 9 and set(long["metric"]) == {"psnr", "ssim", "lpips"}


def _fid_options(weights_dir: Path, **kw) -> ScoreOptions:
    protocol = get_protocol("bd16")
    return ScoreOptions(protocol=protocol, metrics=("fid",), weights_dir=weights_dir, **kw)


def test_reference_statistics_are_saved_reused_and_protected(tmp_path, weights_dir) -> None:
    ref = make_set(tmp_path / "ref", {f"k{i}": moving_square_video(2, (32, 32), seed=i) for i in range(3)})
    pred = make_set(tmp_path / "pred", {f"k{i}": moving_square_video(2, (32, 32), seed=i + 10) for i in range(3)})
    stats = tmp_path / "stats"
    options = _fid_options(weights_dir, ref_stats_dir=stats, dataset="synth")
    first = score(pred, ref, options)[0]
    saved = stats / "synth.bd16.fid.npz"
    assert saved.is_file() and first.extras["reference_stats"] == str(saved)
    assert first.benchmark == "synth" and first.model == "pred"  # the dataset names the benchmark by default
    second = score(pred, ref, options)[0]
    assert second.extras["reference_stats"] == str(saved)
    assert second.value == pytest.approx(first.value, rel=1e-9)
    # the same protocol name with other weights: the stored statistics are refused, not mixed
    other = tmp_path / "other_weights"
    other.mkdir()
    state = torch.load(weights_dir / NETWORKS["fid-inception"].weights.filename, weights_only=True)
    state["fc.bias"] = state["fc.bias"] + 1  # any change of the file changes its sha256
    torch.save(state, other / NETWORKS["fid-inception"].weights.filename)
    with pytest.raises(ValueError, match="weights_sha256"):
        score(pred, ref, _fid_options(other, ref_stats_dir=stats, dataset="synth"))


def test_keys_must_match(tmp_path) -> None:
    ref = make_set(tmp_path / "ref", {"a": moving_square_video(2, (16, 16), seed=0)})
    pred = make_set(tmp_path / "pred", {"b": moving_square_video(2, (16, 16), seed=0)})
    with pytest.raises(
        ValueError, match=r"1 generated without reference \['b'\], 1 references without generated video \['a'\]"
    ):
        match_pairs(pred, ref)
    with pytest.raises(ValueError, match="only 1 pairs"):
        match_pairs(ref, ref, num_videos=2)
    with pytest.raises(ValueError, match=r"no \.mp4"):
        match_pairs(tmp_path, ref)


def _psnr(**kw) -> ScoreOptions:
    return ScoreOptions(protocol=kw.pop("protocol", get_protocol("bd16")), metrics=("psnr",), **kw)


def test_frame_count_size_and_constant_video_handling(tmp_path) -> None:
    ref = make_set(tmp_path / "ref", {"a": moving_square_video(6, (32, 32), seed=0)})
    short = make_set(tmp_path / "short", {"a": moving_square_video(4, (32, 32), seed=0)})
    with pytest.raises(ValueError, match=r"short/a\.mp4 has 4 frames but its reference .*ref/a\.mp4 has 6"):
        score(short, ref, _psnr())
    row = score(short, ref, _psnr(truncate_frames=True, model="m1", benchmark="synthA"))[0]
    assert (row.model, row.benchmark) == ("m1", "synthA")
    assert row.extras["truncated_videos"] == ["a"] and row.value > 30  # same content on the first 4 frames

    small = make_set(tmp_path / "small", {"a": moving_square_video(6, (16, 16), seed=0)})
    with pytest.raises(ValueError, match=r"small/a\.mp4 is 16x16 but its reference .* is 32x32"):
        score(small, ref, _psnr())
    resized = get_protocol("bd16").__class__("bd16-px16", pixel_resolution=16)
    assert score(small, ref, _psnr(protocol=resized))[0].num_videos == 1

    flat = make_set(tmp_path / "flat", {"a": np.zeros((6, 32, 32, 3), dtype=np.uint8)})
    with pytest.raises(ValueError, match=r"flat/a\.mp4: every frame is a single flat colour"):
        score(flat, ref, _psnr())
    assert score(flat, ref, _psnr(allow_constant=True))[0].value < 20


def test_missing_weights_stop_the_command_with_the_path(tmp_path) -> None:
    ref = make_set(tmp_path / "ref", {"a": moving_square_video(16, (16, 16), seed=0)})
    args = ["score", "--pred", str(ref), "--ref", str(ref), "--protocol", "bd16", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(cli, [*args, "--metrics", "fvd", "--weights-dir", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "i3d_pretrained_400.pt" in result.output and "never downloads" in result.output
    result = CliRunner().invoke(cli, [*args, "--metrics", "fvd,bogus"])
    assert result.exit_code != 0 and "unknown or no metrics ['bogus']" in result.output
    args[args.index("bd16")] = "nope"
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "unknown protocol 'nope'" in result.output


def test_weights_from_the_default_directory_unless_a_folder_or_a_file_is_named(
    tmp_path, weights_dir, monkeypatch
) -> None:
    """`score` looks where `backdrop weights download` puts files; --weights-dir and --weights NAME=PATH override."""
    from benchmark.scoring import _resolve  # what build_metrics asks for every network

    monkeypatch.setenv("BACKDROP_WEIGHTS", str(weights_dir))
    inception = weights_dir / NETWORKS["fid-inception"].weights.filename
    assert _resolve("fid-inception", _fid_options(None)) == inception
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(inception, other / inception.name)
    assert _resolve("fid-inception", _fid_options(other)) == other / inception.name
    # An explicit folder is used as given: no fallback to the default one that holds the file.
    empty = tmp_path / "empty"
    with pytest.raises(FileNotFoundError, match=f"{empty}.*backdrop weights download fid-inception --dir {empty}"):
        _resolve("fid-inception", _fid_options(empty))
    # An explicit file wins over both folders.
    assert _resolve("fid-inception", _fid_options(other, weights={"fid-inception": inception})) == inception
    # End to end: no --weights-dir, and the command scores with the files of the default directory.
    ref = make_set(tmp_path / "ref", {f"k{i}": moving_square_video(2, (32, 32), seed=i) for i in range(3)})
    pred = make_set(tmp_path / "pred", {f"k{i}": moving_square_video(2, (32, 32), seed=i + 10) for i in range(3)})
    out = tmp_path / "cli"
    args = ["score", "--pred", str(pred), "--ref", str(ref), "--protocol", "bd16", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--metrics", "fid"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(out.with_name("cli.json").read_text())
    assert row["value"] > 0 and json.loads(row["protocol_view"])["weights_sha256"] == sha256_file(inception)


def test_weights_names_are_the_registrys(tmp_path) -> None:
    ref = make_set(tmp_path / "ref", {"a": moving_square_video(16, (16, 16), seed=0)})
    args = ["score", "--pred", str(ref), "--ref", str(ref), "--protocol", "bd16", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(cli, [*args, "--metrics", "fid", "--weights", f"i3d-400={tmp_path}/x.pt"])
    assert result.exit_code != 0
    assert "unknown network 'i3d-400' (now called 'fvd-i3d-400')" in result.output
    assert "fid-inception" in result.output and "lpips-alex" in result.output  # the known names are listed
    with pytest.raises(ValueError, match=r"unknown network 'dwpose-detector' in weights; known: cdfvd-videomae-v2-g"):
        ScoreOptions(protocol=get_protocol("bd16"), weights={"dwpose-detector": tmp_path / "x.onnx"})
    with pytest.raises(KeyError, match="no feature network called 'inception-fid'; known: cdfvd-videomae-v2-g"):
        load_feature_net("inception-fid", tmp_path / "x.pth")
    assert get_protocol("bd16").networks["fvd"] == "fvd-i3d-400"
    assert get_protocol("bd16-stylegan-v").networks["fvd"] == "fvd-i3d-torchscript"


def test_decoded_video_roundtrip(tmp_path) -> None:
    ramp = np.linspace(0, 255, 32).astype(np.uint8)  # smooth content: 4:2:0 chroma keeps it (not pixel noise)
    video = np.broadcast_to(ramp[None, None, :, None], (5, 24, 32, 3)).copy()
    video[:, 8:16, 4:12] = [250, 30, 30]
    decoded = read_video(write_mp4(tmp_path / "v.mp4", video))
    assert decoded.shape == video.shape and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - video.astype(int)).mean() < 6  # lossy, but the same picture


def test_every_missing_truth_file_is_named_before_any_video_is_decoded(reference, tmp_path, monkeypatch) -> None:
    import shutil

    import benchmark.scoring as scoring
    from benchmark.metrics import BACKGROUND_METRICS
    from benchmark.scoring import ScoreOptions, score

    ref = tmp_path / "ref"
    ref.mkdir()
    names = sorted(p.stem for p in reference.glob("*.mp4"))[:3]
    for name in names:
        shutil.copyfile(reference / f"{name}.mp4", ref / f"{name}.mp4")
    shutil.copyfile(reference / f"{names[0]}.gt.npz", ref / f"{names[0]}.gt.npz")  # two of three missing
    decoded = []
    monkeypatch.setattr(scoring, "read_scored_video", lambda path: decoded.append(path))
    options = ScoreOptions(protocol=get_protocol("bd16"), metrics=BACKGROUND_METRICS)
    with pytest.raises(FileNotFoundError, match="2 ground-truth file") as error:
        score(ref, ref, options)
    assert f"{names[1]}.gt.npz" in str(error.value) and f"{names[2]}.gt.npz" in str(error.value)
    assert decoded == []
