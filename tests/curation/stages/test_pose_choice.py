"""The pose backend `auto` (the default): a sidecar where one is beside the video, otherwise mediapipe; a source
whose pose stage cannot run fails once, before it is decoded, with one reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from curation.config import config_from_dict
from curation.pipeline.sequential import run_sequential
from curation.record import FAILED, OK
from curation.stages import PoseStage
from curation.synthetic.corpus import read_ground_truth

#: Two clips of 12 frames from each 24-frame tiny video; filters off (this is about the pose stage alone).
CLIPS = {"clips": {"frames": 12, "short_side": 128}, "quality": {"pyiqa": []}, "filters": []}


def _video(tiny_corpus: Path, tmp_path: Path, *, sidecar: bool) -> Path:
    source = sorted(tiny_corpus.glob("*.mp4"))[0]
    video = tmp_path / "clip.mp4"
    shutil.copy(source, video)
    if sidecar:
        shutil.copy(source.with_suffix(".gt.npz"), tmp_path / "clip.gt.npz")
    return video


def test_auto_reads_the_sidecar_where_there_is_one(tiny_corpus: Path, tmp_path: Path) -> None:
    video = _video(tiny_corpus, tmp_path, sidecar=True)
    records = list(run_sequential([video], config_from_dict(CLIPS), raise_errors=True))
    truth = read_ground_truth(tmp_path / "clip.gt.npz")["keypoints"]
    assert [r["status"] for r in records] == [OK, OK]
    np.testing.assert_allclose(records[1]["pose"], truth[12:24], atol=1e-4)
    assert records[0]["backends"]["pose"] == "sidecar"


def test_auto_runs_mediapipe_where_there_is_no_sidecar(tiny_corpus: Path, tmp_path: Path) -> None:
    video = _video(tiny_corpus, tmp_path, sidecar=False)
    records = list(run_sequential([video], config_from_dict(CLIPS), raise_errors=True))
    assert [r["status"] for r in records] == [OK, OK]
    assert records[0]["backends"]["pose"].startswith("mediapipe 0.10.21")
    pose, mask = records[0]["pose"], records[0]["fgmask"]
    assert pose.shape[0] == 12 and pose.shape[2:] == (133, 3) and mask.shape == (12, 128, 128)
    # The mask is the segmentation gated by the pose: no person in a frame, no mask in it.
    nobody = (pose[..., 2] < 0.5).all(axis=(1, 2))
    assert not mask[nobody].any()


@pytest.mark.parametrize("problem", ["missing", "broken"])
def test_a_source_whose_pose_cannot_run_fails_once_before_decoding(
    problem: str, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = _video(tiny_corpus, tmp_path, sidecar=False)
    if problem == "broken":
        np.save(tmp_path / "clip.pose.npy", np.zeros((24, 1, 17, 3), np.float32), allow_pickle=False)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the source was decoded")

    monkeypatch.setattr("curation.stages.source.iter_resampled", no_decoding)
    config = config_from_dict({**CLIPS, "pose": {"backend": "sidecar" if problem == "missing" else "auto"}})
    records = list(run_sequential([video], config))
    assert len(records) == 1  # one row for the source, not one per clip
    record = records[0]
    assert record["status"] == FAILED and record["stage"] == "pose"
    if problem == "missing":
        assert "no pose sidecar beside it" in record["reason"] and str(video) in record["reason"]
    else:
        assert "clip.pose.npy" in record["reason"] and "keypoints must be [T, P, 133, 3]" in record["reason"]


def test_later_clips_of_a_source_whose_sidecar_fails_keep_its_reason(tiny_corpus: Path, tmp_path: Path) -> None:
    video = _video(tiny_corpus, tmp_path, sidecar=False)
    np.save(tmp_path / "clip.pose.npy", np.zeros((24, 1, 17, 3), np.float32), allow_pickle=False)
    stage = PoseStage(config_from_dict({"pose": {"backend": "sidecar"}}))
    reasons = []
    for index in range(3):
        record = {
            "key": f"k{index}",
            "source": str(video),
            "status": OK,
            "source_size": (128, 128),
            "frames": np.zeros((4, 128, 128, 3), np.uint8),
            "source_frames": np.arange(4) + 4 * index,
        }
        out = stage(record)
        assert out["status"] == FAILED
        reasons.append(out["reason"])
    assert len(set(reasons)) == 1 and "keypoints must be" in reasons[0], reasons
