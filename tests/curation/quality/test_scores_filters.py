"""Quality scores against analytic values, filters, the config reader, and the pyiqa scorer on local weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from curation.config import CurationConfig, config_from_dict, load_config
from curation.quality import scores as quality
from curation.quality.filters import FilterRule, apply_filters, parse_rules
from curation.quality.iqa import NoReferenceScorer


def test_image_scores_analytic():
    grey = np.full((4, 32, 48, 3), 100, np.uint8)
    scores = quality.image_scores(grey)
    assert scores["sharpness"] == 0.0
    assert scores["brightness"] == pytest.approx(100 / 255)
    assert scores["underexposed"] == scores["overexposed"] == 0.0
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (3, 32, 48), np.uint8)
    frames = np.repeat(noise[..., None], 3, axis=-1)
    kernel = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)
    expected = np.mean([ndimage.convolve(f.astype(float), kernel, mode="mirror").var() for f in noise])
    got = quality.image_scores(frames)
    assert got["sharpness"] == pytest.approx(expected, rel=1e-9)
    assert got["underexposed"] == pytest.approx((noise <= 16).mean())
    assert got["overexposed"] == pytest.approx((noise >= 239).mean())
    with pytest.raises(ValueError, match="uint8"):
        quality.image_scores(grey.astype(np.float32))


def test_sampled_frames_spread_over_the_clip():
    np.testing.assert_array_equal(quality.sample_frame_indices(48, 4), [0, 16, 31, 47])
    np.testing.assert_array_equal(quality.sample_frame_indices(3, 8), [0, 1, 2])


def test_motion_scores_analytic():
    t = np.arange(10, dtype=np.float32)[:, None]
    positions = np.zeros((10, 4, 2), np.float32)
    positions[..., 0] = 2.0 * t + np.arange(4)  # every track moves 2 px per frame
    mask = np.ones((10, 4), bool)
    mask[:, 3] = False
    scores = quality.motion_scores(positions, mask, camera_magnitude=2.0)
    assert scores["background_speed"] == pytest.approx(2.0)
    assert scores["track_coverage"] == pytest.approx(0.75)
    assert np.isnan(quality.motion_scores(positions, np.zeros_like(mask), 0.0)["background_speed"])


def test_person_scores_count_confident_persons():
    keypoints = np.zeros((5, 3, 133, 3), np.float32)
    keypoints[:, 0, :17, 2] = 0.9  # a full body
    keypoints[:3, 1, :4, 2] = 0.9  # a partial person in three frames
    keypoints[:, 2, :3, 2] = 0.9  # too few points to count
    mask = np.zeros((5, 10, 10), bool)
    mask[:, :5] = True
    scores = quality.person_scores(keypoints, mask)
    # Every keypoint at (0, 0): no person has any height, so none is tall enough to count as in the frame.
    assert scores == {"person_area": 0.5, "person_count": 2.0, "person_count_max": 2.0, "person_frames": 0.0}


def test_filter_rules_and_decisions():
    rules = parse_rules(
        [
            {"score": "sharpness", "min": 10},
            {"score": "person_count", "min": 1, "max": 1},
            {"camera_labels": ["pan_left", "static"]},
            {"score": "musiq", "min": 40, "required": True},
        ]
    )
    decision = apply_filters({"sharpness": 5.0, "person_count": 2.0, "musiq": None}, "zoom_in", rules)
    assert not decision.kept
    assert decision.reasons == (
        "sharpness 5 < min 10",
        "person_count 2 > max 1",
        "camera label zoom_in not in ['pan_left', 'static']",
        "musiq not computed",
    )
    assert apply_filters({"sharpness": 50.0, "person_count": 1.0, "musiq": 41.0}, "static", rules).kept
    lenient = parse_rules([{"score": "musiq", "min": 40}])
    decision = apply_filters({"musiq": float("nan")}, "static", lenient)
    assert decision.kept and decision.skipped == ("musiq not computed",)
    with pytest.raises(ValueError, match=r"filters\[0\]: unknown keys \['minimum'\]"):
        parse_rules([{"score": "x", "minimum": 1}])
    with pytest.raises(ValueError, match="needs `min` or `max`"):
        FilterRule(score="x")
    with pytest.raises(ValueError, match="unknown camera label"):
        FilterRule(camera_labels=("sideways",))


def test_config_reader(tmp_path):
    assert load_config(None) == CurationConfig()
    path = tmp_path / "c.yaml"
    path.write_text(
        "clips: {frames: 16, short_side: 256}\ntracks: {grid_step: 8}\n"
        "filters:\n  - {score: sharpness, min: 20}\nquality: {pyiqa: []}\n"
    )
    config = load_config(path)
    assert config.clips.frames == 16 and config.clips.short_side == 256 and config.tracks.grid_step == 8
    assert config.filters == (FilterRule(score="sharpness", min=20),) and config.quality.pyiqa == ()
    for text, message in (
        ("clip: {}", "unknown config sections"),
        ("clips: {frames: 1}", "at least 2"),
        ("clips: [1]", "must be a mapping"),
        ("clips: {frames: [", "cannot read"),
    ):
        path.write_text(text)
        with pytest.raises(ValueError, match=message) as error:
            load_config(path)
        assert str(path) in str(error.value)
    with pytest.raises(ValueError, match=r"pose\.backend"):
        config_from_dict({"pose": {"backend": "magic"}})


def test_config_refuses_names_that_nothing_computes(tmp_path):
    """A filter on a misspelt score, or on a pyiqa metric that is not configured, is refused at load, naming the
    file, the rule and the name; so are unknown pyiqa metrics and x264 presets."""
    path = tmp_path / "typo.yaml"
    path.write_text("filters:\n  - {score: sharpness, min: 20}\n  - {score: sharpnes, min: 20}\n")
    with pytest.raises(ValueError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: filters[1]: unknown score 'sharpnes' (did you mean 'sharpness'?)")
    for text, words in (
        ("quality: {pyiqa: []}\nfilters: [{score: musiq, min: 40}]", "filters[0]: unknown score 'musiq' (a pyiqa"),
        ("quality: {pyiqa: [musiqq]}", "quality.pyiqa: unknown metrics ['musiqq']"),
        ("encode: {preset: veryfastt}", "encode.preset must be one of"),
    ):
        path.write_text(text)
        with pytest.raises(ValueError) as error:
            load_config(path)
        assert str(path) in str(error.value) and words in str(error.value), error.value
    # every weights-free score and every configured pyiqa metric is accepted
    rules = [{"score": name, "min": 0} for name in (*quality.WEIGHTS_FREE_SCORES, "musiq", "clipiqa")]
    config = config_from_dict({"quality": {"pyiqa": ["musiq", "clipiqa"]}, "filters": rules})
    assert len(config.filters) == len(quality.WEIGHTS_FREE_SCORES) + 2


TINY_MUSIQ = {"num_layers": 1, "hidden_size": 32, "mlp_dim": 32, "num_heads": 2, "longer_side_lengths": [64]}


def test_pyiqa_score_only_with_local_weights(tmp_path):
    scorer = NoReferenceScorer("musiq", tmp_path, **TINY_MUSIQ)
    assert not scorer.available and str(tmp_path) in scorer.missing_reason
    with pytest.raises(FileNotFoundError, match="musiq"):
        scorer.load()
    # A tiny MUSIQ with random weights, saved under the canonical file name, goes through the real loading code.
    import pyiqa

    torch.manual_seed(0)
    net = pyiqa.create_metric("musiq", device="cpu", pretrained=False, num_class=1, **TINY_MUSIQ).net
    torch.save(net.state_dict(), scorer.path)
    assert scorer.available
    frames = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), np.uint8)
    value = scorer.score(frames)
    assert np.isfinite(value)
    assert scorer.score(frames) == value  # deterministic
    wrong = NoReferenceScorer("musiq", tmp_path, **(TINY_MUSIQ | {"num_layers": 2}))
    with pytest.raises(ValueError, match="do not match"):
        wrong.load()
    with pytest.raises(ValueError, match="unknown no-reference metric"):
        NoReferenceScorer("nope")
