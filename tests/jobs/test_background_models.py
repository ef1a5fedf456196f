"""The comparison script's pieces that decide what it measures: every row gets the same training section and the
comparison's codec and prediction on top of its own switches, the configs build into models whose input widths fit,
and the bars read the bootstrap intervals the way the issue states them."""

from __future__ import annotations

import pytest

from jobs.bench.background_models import row_config
from jobs.bench.background_models_report import bars, what_the_rows_show
from jobs.bench.background_rows import DEFAULT_ROWS, ROWS, Bar, Row, check_rows
from models.config import load_model_config
from models.registry import build_model


def test_every_row_shares_the_budget_and_gets_the_codec_and_prediction() -> None:
    configs = {row.name: row_config(row, 30, 10, "dct", "sample") for row in ROWS}
    trains = [c["train"] for c in configs.values()]
    assert all(t == trains[0] for t in trains)
    assert [(s["name"], s["steps"]) for s in trains[0]["stages"]] == [("image", 30), ("video", 10)]
    for name, config in configs.items():
        model = config["model"]
        assert model["name"] == name
        assert model["codec"]["kind"] == "dct" and model["unet"]["config"]["in_channels"] == 48
        assert model["scheduler"]["prediction_type"] == "sample" and model["scheduler"]["snr_gamma"] is None
    assert configs["disentangled-no-last-frame"]["model"]["disentangled"]["last_frame_concat"] is False
    assert configs["animate-anywhere-no-bml"]["model"]["animate_anywhere"] == pytest.approx(
        {**configs["animate-anywhere"]["model"]["animate_anywhere"], "bml": False, "epipolar_loss": False}
    )
    # the files' own codec when asked: the earlier measurement's setting
    plain = row_config(ROWS[0], None, None, "pixel_unshuffle", "v_prediction")["model"]
    assert plain["codec"]["kind"] == "pixel_unshuffle" and plain["scheduler"]["prediction_type"] == "v_prediction"


def test_the_video_stage_learning_rate_is_set_for_every_row_and_leaves_the_image_stage() -> None:
    default = row_config(ROWS[0], 30, 10)["train"]["stages"]
    for row in ROWS:
        image, video = row_config(row, 30, 10, video_lr=1e-3, video_lr_schedule="cosine")["train"]["stages"]
        assert image == default[0]
        assert video == {**default[1], "learning_rate": 1e-3, "lr_schedule": "cosine"}
    assert default[1]["learning_rate"] != 1e-3  # tiny.yaml's own, which the options replace


INPUTS = {
    "animate-anyone": 1,
    "disentangled-warped": 3,
    "disentangled-no-last-frame": 1,
    "animate-anyone-reference-concat": 2,
    "animate-anywhere-reference-concat": 2,
    "animate-anywhere-reference-concat-full-grid": 2,
    "animate-anywhere-reference-concat-rope-full-grid": 2,
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_the_row_configs_build(name: str) -> None:
    row = next(r for r in ROWS if r.name == name)
    model = build_model(load_model_config(row_config(row, 1, 1)["model"]))
    inputs = INPUTS[name]
    assert model.codec.latent_channels == 48
    assert model.denoising_unet.config.in_channels == 48 * inputs


def _stats(mean: float, low: float, high: float) -> dict:
    return {"mean": mean, "low": low, "high": high, "n": 10}


def test_bars_need_intervals_apart_and_for_the_dynamics_closeness_to_one() -> None:
    summary = {
        "animate-anyone": {"bg-camera": _stats(8.0, 6.5, 9.5), "bg-dynamics": _stats(0.2, 0.1, 0.3)},
        "disentangled": {"bg-camera": _stats(5.0, 3.0, 6.6)},  # below, but the intervals overlap
        "animate-anywhere": {"bg-dynamics": _stats(0.5, 0.2, 0.8)},
    }
    lines = bars(summary)
    # AnimateAnywhere is closer to 1 on the means, but within the baseline's interval: not a measured difference
    assert len(lines) == 2 and "**NOT met**" in lines[0] and "**NOT met**" in lines[1]
    assert "; closer to 1, intervals overlap" in lines[1]
    summary["animate-anywhere"]["bg-dynamics"] = _stats(0.5, 0.4, 0.6)
    assert "**met**" in bars(summary)[1] and "; closer to 1, intervals apart" in bars(summary)[1]
    summary["disentangled"]["bg-camera"] = _stats(2.0, 1.0, 3.0)
    summary["animate-anywhere"]["bg-dynamics"] = _stats(1.9, 1.5, 2.3)  # 0.9 from 1 against the baseline's 0.8
    lines = bars(summary)
    assert "**met**" in lines[0] and "**NOT met**" in lines[1] and "SSIM" not in lines[0]
    # backdrop's variant gets its own, labelled line; a row below the reference repeated's SSIM is said to be
    summary["disentangled-warped"] = {"bg-camera": _stats(1.0, 0.8, 1.2)}
    summary["animate-anyone"]["ssim"] = _stats(0.2, 0.19, 0.21)
    summary["reference-repeated"] = {"ssim": _stats(0.4, 0.35, 0.45)}
    lines = bars(summary)
    assert "backdrop's variant: + the warped reference (`disentangled-warped`, not the issue bar itself)" in lines[1]
    assert "**met**" in lines[1]
    assert "animate-anyone's SSIM 0.200 is below the reference repeated's 0.400" in lines[0]
    missing = bars({"animate-anyone": {}})
    assert missing == [
        "- disentangled vs animate-anyone `bg-camera`: not measured (a row is missing)",
        "- animate-anywhere vs animate-anyone `bg-dynamics`: not measured (a row is missing)",
    ]
    # the full-grid AnimateAnywhere row, where it ran, gets its own line, read the same way
    summary["animate-anywhere-full-grid"] = {"bg-dynamics": _stats(0.7, 0.6, 0.8)}
    lines = bars(summary)
    assert len(lines) == 4 and "16x16 grid" in lines[3] and "**met**" in lines[3] and "apart" in lines[3]
    # with the reference concatenated, AnimateAnywhere is read against the baseline with it too, not the plain one:
    # 0.3 from 1 is closer than the plain baseline's 0.8, but not than the concatenating baseline's 0.05
    summary["animate-anywhere-reference-concat"] = {"bg-dynamics": _stats(0.7, 0.6, 0.8)}
    assert len(bars(summary)) == 4  # its baseline did not run: no line
    summary["animate-anyone-reference-concat"] = {"bg-dynamics": _stats(0.95, 0.9, 1.0)}
    lines = bars(summary)
    assert len(lines) == 5 and "reference concatenated" in lines[4] and "**NOT met**" in lines[4]
    assert "closer to 1 than animate-anyone-reference-concat's" in lines[4]
    assert "(0.700 [0.600, 0.800] vs 0.950 [0.900, 1.000]; not closer to 1, intervals apart" in lines[4]
    # and with the BML on every grid too, against the same concatenating baseline
    summary["animate-anywhere-reference-concat-full-grid"] = {"bg-dynamics": _stats(1.02, 0.98, 1.06)}
    lines = bars(summary)
    assert len(lines) == 6 and "16x16 grid" in lines[5] and "reference concatenated" in lines[5]
    assert (
        "**NOT met**" in lines[5]
        and "(1.020 [0.980, 1.060] vs 0.950 [0.900, 1.000]; closer to 1, intervals overlap" in lines[5]
    )


def test_the_full_grid_row_runs_the_bml_on_every_grid_and_only_when_asked() -> None:
    rows = {row.name: row for row in ROWS}
    full, plain = (row_config(rows[n], 1, 1)["model"] for n in ("animate-anywhere-full-grid", "animate-anywhere"))
    assert full == {**plain, "name": "animate-anywhere-full-grid",
                    "animate_anywhere": {**plain["animate_anywhere"], "max_tokens": 256}}  # fmt: skip
    assert plain["animate_anywhere"]["max_tokens"] == 64  # the 8x8 grid's tokens: the 16x16 grid (256) left out
    opt_in = {
        "animate-anywhere-full-grid",
        "animate-anyone-reference-concat",
        "animate-anywhere-reference-concat",
        "animate-anywhere-reference-concat-full-grid",
        "animate-anywhere-reference-concat-rope",
        "animate-anywhere-reference-concat-rope-full-grid",
    }
    assert {row.name for row in ROWS} - set(DEFAULT_ROWS) == opt_in


def test_the_reference_concat_rows_differ_from_their_plain_rows_by_that_switch_alone() -> None:
    rows = {row.name: row for row in ROWS}
    for plain_name in ("animate-anyone", "animate-anywhere"):
        name = f"{plain_name}-reference-concat"
        concat, plain = (row_config(rows[n], 1, 1)["model"] for n in (name, plain_name))
        assert concat == {**plain, "name": name, "reference_concat": True}
    both = row_config(rows["animate-anywhere-reference-concat-full-grid"], 1, 1)["model"]
    full = row_config(rows["animate-anywhere-full-grid"], 1, 1)["model"]
    assert both == {**full, "name": "animate-anywhere-reference-concat-full-grid", "reference_concat": True}
    for grid in ("", "-full-grid"):  # and the rope rows are those with the position code on, alone
        name = f"animate-anywhere-reference-concat{grid}"
        plain = row_config(rows[name], 1, 1)["model"]
        rope = row_config(rows[name.replace("concat", "concat-rope")], 1, 1)["model"]
        assert rope == {**plain, "name": name.replace("concat", "concat-rope"),
                        "animate_anywhere": {**plain["animate_anywhere"], "rope": True}}  # fmt: skip


def test_what_the_rows_show_sorts_rows_by_the_frozen_backgrounds_interval_and_by_their_motion() -> None:
    summary = {
        "frozen-background": {"bg-camera": _stats(8.0, 6.5, 9.7), "ssim": _stats(0.47, 0.42, 0.51)},
        "reference-repeated": {"ssim": _stats(0.425, 0.37, 0.47)},
        "follows": {
            "bg-camera": _stats(1.2, 1.0, 1.4),
            "bg-dynamics": _stats(0.9, 0.85, 0.95),
            "ssim": _stats(0.47, 0.4, 0.5),
        },
        "still": {
            "bg-camera": _stats(8.2, 6.9, 9.9),
            "bg-dynamics": _stats(0.41, 0.31, 0.5),
            "ssim": _stats(0.2, 0.19, 0.21),
        },
        "blur": {
            "bg-camera": _stats(104.0, 49.0, 168.0),
            "bg-dynamics": _stats(5.0, 3.4, 6.9),
            "ssim": _stats(0.2, 0.2, 0.22),
        },
    }
    summary["copies"] = {
        "bg-camera": _stats(7.9, 6.5, 9.6),
        "bg-dynamics": _stats(0.05, 0.01, 0.09),
        "ssim": _stats(0.5, 0.45, 0.55),
    }
    lines = what_the_rows_show(summary, ["follows", "still", "blur", "copies"])
    follow = next(line for line in lines if line.startswith("- background that follows the camera"))
    assert "follows 1.20 [1.00, 1.40] px" in follow and "still" not in follow and "blur" not in follow
    others = next(line for line in lines if line.startswith("- the other rows"))
    assert "(still, blur)" in others and "`bg-camera` 8.20-104.00 px" in others
    sharp = next(line for line in lines if line.startswith("- reproducing the reference"))
    assert sharp.endswith("without following the camera: copies `bg-camera` 7.90 [6.50, 9.60] px")
    slower = next(line for line in lines if line.startswith("- of those, less background motion"))
    # not the row that follows the camera, at 0.9
    assert slower.endswith(": still 0.410 [0.310, 0.500], copies 0.050 [0.010, 0.090]")
    assert what_the_rows_show({"reference-repeated": summary["reference-repeated"]}, ["still"]) == []


def test_each_bar_row_names_an_existing_row_to_be_read_against() -> None:
    check_rows(ROWS)
    against = {row.name: row.bar.against for row in ROWS if row.bar}
    # the issue's two bars and the variant read against the plain baseline; every reference_concat row against the
    # baseline with the reference concatenated too, so the concatenation's own effect is not counted as the BML's
    assert against.pop("disentangled") == against.pop("animate-anywhere") == "animate-anyone"
    for name, baseline in against.items():
        assert baseline == ("animate-anyone-reference-concat" if "reference-concat" in name else "animate-anyone")
    assert {row.name for row in ROWS if row.bar and row.bar.issue} == {"disentangled", "animate-anywhere"}
    with pytest.raises(ValueError, match="'x' is read against 'nobody', which is not a row"):
        check_rows((Row("x", "tiny", bar=Bar("bg-dynamics", "nobody")),))
    with pytest.raises(ValueError, match="row names repeat"):
        check_rows((Row("x", "tiny"), Row("x", "tiny")))
    with pytest.raises(ValueError, match="unknown bar metric 'psnr'"):
        Bar("psnr", "animate-anyone")


def test_bars_read_a_row_only_against_the_row_its_bar_names() -> None:
    rows = (Row("base", "tiny"), Row("mine", "tiny", what="a row", bar=Bar("bg-dynamics", "base")))
    summary = {"base": {"bg-dynamics": _stats(0.2, 0.1, 0.3)}, "mine": {"bg-dynamics": _stats(0.8, 0.7, 0.9)}}
    summary["animate-anyone"] = {"bg-dynamics": _stats(0.95, 0.9, 1.0)}  # would make it NOT met, were it read
    assert bars(summary, rows) == [
        "- a row (`mine`, not the issue bar itself) `bg-dynamics` closer to 1 than base's, intervals apart: **met** "
        "(0.800 [0.700, 0.900] vs 0.200 [0.100, 0.300]; closer to 1, intervals apart)"
    ]
    assert bars({"mine": summary["mine"]}, rows) == []  # a variant's bar without its baseline: no line
