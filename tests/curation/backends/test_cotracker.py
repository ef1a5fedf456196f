"""The CoTracker3 wrapper against a stand-in hub directory (a hubconf.py written here) that implements the same hub
entries and predictor calls: query format, coordinate scaling, visibility threshold, background restriction,
windows, online steps, and the error when the code is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from curation.backends.cotracker import CoTrackerBackend, CoTrackerSettings, CoTrackerUnavailable, load_predictor
from curation.backends.stand_ins import cotracker_hub


@pytest.fixture()
def hub(tmp_path: Path) -> Path:
    return cotracker_hub(tmp_path / "hub")


def _calls(backend: CoTrackerBackend) -> list[dict]:
    return type(backend.predictor).forward.__globals__["CALLS"]  # the stand-in module's log


def _settings(hub: Path, **kwargs: object) -> CoTrackerSettings:
    base = {
        "repo": str(hub),
        "source": "local",
        "checkpoint": "random",
        "device": "cpu",
        "grid_step": 16,
        "max_side": 32,
    }
    return CoTrackerSettings(**{**base, **kwargs})  # type: ignore[arg-type]


def _expected(queries: np.ndarray, frames: int, scale: float) -> np.ndarray:
    t = np.arange(frames, dtype=np.float32)[:, None, None]
    return queries[None] + t * np.array([1.0, 0.5], np.float32) / scale


def test_offline_queries_scaling_visibility_and_background(hub: Path) -> None:
    rgb = np.zeros((6, 48, 64, 3), np.uint8)  # 64x48 clip, tracked at 32x24: scale 0.5
    fgmask = np.zeros((6, 48, 64), bool)
    fgmask[:, :, 40:] = True  # a person on the right: no query there
    backend = CoTrackerBackend(_settings(hub))
    tracks = backend.track(rgb, fgmask)
    assert (tracks.queries[:, 0] < 40).all() and len(tracks.queries) == 2 * 3  # columns 8, 24 of 8..56; 3 rows
    call = _calls(backend)[-1]
    sent = call["queries"][0].numpy()
    assert sent.shape == (len(tracks.queries), 3) and (sent[:, 0] == 0).all()  # (t, x, y) at frame 0
    np.testing.assert_allclose(sent[:, 1:], (tracks.queries + 0.5) * 0.5 - 0.5, atol=1e-5)
    np.testing.assert_allclose(tracks.positions, _expected(tracks.queries, 6, 0.5), atol=1e-4)
    model_x = (tracks.positions[..., 0] + 0.5) * 0.5 - 0.5
    np.testing.assert_array_equal(tracks.visible, model_x < 16)  # score 0.9 left, 0.3 right; threshold 0.5
    assert tracks.positions.dtype == np.float32 and tracks.visible.dtype == bool


def test_segm_mask_is_the_inverse_foreground(hub: Path) -> None:
    rgb = np.zeros((4, 32, 32, 3), np.uint8)
    fgmask = np.zeros((4, 32, 32), bool)
    fgmask[:, :16] = True  # the top half is a person
    backend = CoTrackerBackend(_settings(hub, segm_grid_size=5, max_side=None))
    tracks = backend.track(rgb, fgmask)
    segm = _calls(backend)[-1]["segm_mask"]
    np.testing.assert_array_equal(segm[0, 0].numpy() > 0, ~fgmask[0])
    assert len(tracks.queries) > 0 and (np.round(tracks.queries[:, 1]) >= 16).all()  # rows in the background
    assert (tracks.grid_index == -1).all()


def test_offline_windows_are_continuous(hub: Path) -> None:
    rgb = np.zeros((20, 32, 32, 3), np.uint8)
    backend = CoTrackerBackend(_settings(hub, window=8, overlap=2, max_side=None))
    tracks = backend.track(rgb, None)
    calls = [c for c in _calls(backend) if c["mode"] == "offline"]
    assert [c["frames"] for c in calls] == [8, 8, 8]  # frames 0-7, 6-13, 12-19
    second = calls[1]["queries"][0].numpy()
    assert set(np.unique(second[:, 0])) <= {0.0, 1.0}  # re-queried inside the 2-frame overlap
    np.testing.assert_allclose(tracks.positions, _expected(tracks.queries, 20, 1.0), atol=1e-4)


def test_online_steps_cover_the_clip(hub: Path) -> None:
    rgb = np.zeros((10, 32, 32, 3), np.uint8)  # padded to 12 frames: steps of 4, chunks of 8
    backend = CoTrackerBackend(_settings(hub, mode="online", max_side=None))
    tracks = backend.track(rgb, None)
    calls = _calls(backend)
    assert calls[0]["mode"] == "online-first" and calls[0]["queries"].shape[-1] == 3
    assert [c["frames"] for c in calls[1:]] == [8, 8]
    assert tracks.positions.shape == (10, len(tracks.queries), 2)
    np.testing.assert_allclose(tracks.positions, _expected(tracks.queries, 10, 1.0), atol=1e-4)


def test_checkpoint_loaded_strictly_and_missing_code_explained(hub: Path, tmp_path: Path) -> None:
    predictor = load_predictor(_settings(hub))
    checkpoint = tmp_path / "scaled_offline.pth"
    torch.save({k: torch.ones_like(v) for k, v in predictor.model.state_dict().items()}, checkpoint)
    loaded = load_predictor(_settings(hub, checkpoint=None, weights_dir=str(tmp_path)))
    assert torch.equal(loaded.model.weight, torch.ones(2, 2))
    with pytest.raises(CoTrackerUnavailable, match="backdrop weights download cotracker3-online"):
        load_predictor(_settings(hub, checkpoint=None, weights_dir=str(tmp_path), mode="online"))
    with pytest.raises(CoTrackerUnavailable, match=r"Clone https://github\.com/facebookresearch/co-tracker"):
        load_predictor(_settings(tmp_path / "nowhere"))
    with pytest.raises(CoTrackerUnavailable, match="not on the package registry"):
        load_predictor(CoTrackerSettings(checkpoint="random"))  # torch.hub's cache is empty here
