"""The filters on by default, on constructed clips: a letterboxed clip (bars found, no track in them), a slide show of
still images, black frames, a clip with no person or a too small one, a clip whose tracks vanish."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from curation.config import CurationConfig, config_from_dict
from curation.pipeline.sequential import run_sequential
from curation.quality.content import content_scores, letterbox_bars
from curation.quality.filters import DEFAULT_FILTERS, apply_filters
from curation.quality.scores import motion_scores, person_scores
from curation.record import OK, REJECTED
from curation.stages import TrackStage
from curation.video.encode import write_mp4


def _good_scores() -> dict[str, float]:
    return {"person_frames": 1.0, "still_fraction": 0.0, "black_frames": 0.0, "tracked_frames": 1.0,
            "camera_magnitude": 2.0}  # fmt: skip


@pytest.fixture(scope="module")
def moving(small_corpus) -> np.ndarray:
    """24 frames of a synthetic clip at 128x128 (moving camera and figure)."""
    return np.stack([cv2.resize(f, (128, 128), interpolation=cv2.INTER_AREA) for f in small_corpus[2]["rgb"]])


def test_the_defaults_keep_a_good_clip_and_name_every_failing_rule() -> None:
    assert CurationConfig().filters == DEFAULT_FILTERS
    assert apply_filters(_good_scores(), "pan_left", DEFAULT_FILTERS).kept
    bad = _good_scores() | {"person_frames": 0.0, "tracked_frames": 0.0}
    decision = apply_filters(bad, "dynamic", DEFAULT_FILTERS)
    assert not decision.kept and len(decision.reasons) == 2
    assert "person_frames 0 < min 0.8" in decision.reason and "tracked_frames 0 < min 0.9" in decision.reason
    assert config_from_dict({"filters": []}).filters == ()  # a config's own list replaces the defaults


def test_a_letterboxed_clip_has_its_bars_found_and_no_track_in_them(moving: np.ndarray) -> None:
    boxed = np.zeros((24, 192, 128, 3), np.uint8)
    boxed[:, 32:160] = moving
    assert letterbox_bars(boxed) == (32, 32, 0, 0)
    assert letterbox_bars(moving) == (0, 0, 0, 0)
    assert content_scores(boxed)["letterbox"] == pytest.approx(64 / 192)
    record = {"key": "k", "source": "s", "status": OK, "frames": boxed, "fgmask": np.zeros((24, 192, 128), bool)}
    out = TrackStage(config_from_dict({"tracks": {"grid_step": 8}}), raise_errors=True)(record)
    queries = out["queries"]
    assert len(queries) > 100 and queries[:, 1].min() >= 32 and queries[:, 1].max() < 160


def test_a_slide_show_is_still_and_black_frames_are_black(moving: np.ndarray) -> None:
    slides = np.concatenate([np.repeat(moving[i][None], 8, axis=0) for i in (0, 10, 20)])
    assert content_scores(slides)["still_fraction"] == pytest.approx(21 / 23)  # 2 of 23 steps change the slide
    assert content_scores(moving)["still_fraction"] == 0.0
    decision = apply_filters(_good_scores() | content_scores(slides), "static", DEFAULT_FILTERS)
    assert not decision.kept and "still_fraction" in decision.reason
    dark = (moving // 16).astype(np.uint8)  # a shot too dark to see
    assert content_scores(dark)["black_frames"] == 1.0 and content_scores(moving)["black_frames"] == 0.0


def test_no_person_or_a_small_one_is_not_a_person_in_the_frame() -> None:
    mask = np.zeros((10, 200, 100), bool)
    assert person_scores(np.zeros((10, 0, 133, 3), np.float32), mask)["person_frames"] == 0.0
    person = np.zeros((10, 1, 133, 3), np.float32)
    person[:, 0, :17, 2] = 1.0
    person[:, 0, :17, 0] = 50
    person[:, 0, :17, 1] = np.linspace(20, 120, 17)  # 100 px of body in a 200 px frame: tall enough
    assert person_scores(person, mask)["person_frames"] == 1.0
    person[:5, 0, :17, 1] = np.linspace(100, 110, 17)  # 10 px tall in half the frames: too small there
    assert person_scores(person, mask)["person_frames"] == 0.5


def test_tracks_that_vanish_leave_no_trusted_camera() -> None:
    positions = np.zeros((10, 20, 2), np.float32)
    kept = np.ones((10, 20), bool)
    kept[6:] = False  # every track lost after frame 5
    assert motion_scores(positions, kept, 0.0)["tracked_frames"] == 0.6
    decision = apply_filters(_good_scores() | {"tracked_frames": 0.6}, "static", DEFAULT_FILTERS)
    assert not decision.kept and "tracked_frames 0.6 < min 0.9" in decision.reason


def test_a_slide_show_with_nobody_is_rejected_by_the_default_pipeline(moving: np.ndarray, tmp_path: Path) -> None:
    slides = np.concatenate([np.repeat(moving[i][None], 12, axis=0) for i in (0, 12)])
    path = tmp_path / "slides.mp4"
    write_mp4(path, slides[..., ::-1].copy(), fps=24)  # colours swapped: the figure is no sidecar's
    config = config_from_dict({"clips": {"frames": 12, "short_side": 128}, "quality": {"pyiqa": []}})
    records = list(run_sequential([path], config))
    assert [r["status"] for r in records] == [REJECTED, REJECTED]
    for record in records:
        assert "still_fraction" in record["reason"], record["reason"]
