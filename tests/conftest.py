"""Shared fixtures, each built once per test session on first use (no downloads): a small synthetic corpus at full
resolution, and a tiny corpus (128x128, 24 frames) with its curation config and a reference run of the job."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from curation.config import config_from_dict
from curation.pipeline.job import JobOptions, run_job, sequential_engine
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import read_ground_truth, write_corpus
from curation.video.reader import read_video
from curation.video.source_lists import resolve_sources
from tests.helpers.jobs import OPTIONS, TINY, TINY_CONFIG

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
# Under `uv run` (make test, CI) Ray would start its workers through a relative `uv run` from a copied working
# directory where that path does not exist, and every worker would fail to start; it reads this before `import ray`.
os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"


# Single-threaded OpenCV keeps results and timings stable on small CI machines.
cv2.setNumThreads(1)

#: Full resolution but half the frames, so CI stays fast; 12 consecutive clips cover every camera label.
SMALL = SynthConfig(width=512, height=512, frames=24, fps=24.0, grid_step=16)


@pytest.fixture(scope="session", autouse=True)
def _empty_default_weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default weights directory is an empty one: every command and backend looks there when not told otherwise,
    and weights present on the machine running the tests would change what a test exercises."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKDROP_WEIGHTS", str(tmp_path_factory.mktemp("default-weights")))
        yield


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("corpus")
    written = write_corpus(12, out, seed=3, config=SMALL, workers=2)
    clips = []
    for clip in written:
        base = Path(clip.video)
        clips.append(
            {
                "name": clip.name,
                "video": base,
                "rgb": read_video(base),
                "gt": read_ground_truth(base.with_name(f"{clip.name}.gt.npz")),
                "meta": json.loads(base.with_name(f"{clip.name}.json").read_text()),
            }
        )
    return clips


@pytest.fixture(scope="session")
def curated_small(small_corpus: list[dict]) -> list[dict]:
    """Foreground, tracks and camera of every clip of the small corpus, computed once."""
    from curation.motion.camera_estimation import estimate_camera
    from curation.motion.track_mask import background_track_mask, make_track_mask
    from curation.motion.tracks import TrackerConfig, track_clip
    from curation.person.foreground_mask import foreground_masks

    results = []
    for clip in small_corpus:
        rgb, gt = clip["rgb"], clip["gt"]
        size = (rgb.shape[2], rgb.shape[1])
        mask, dilated = foreground_masks(rgb, gt["keypoints"])
        tracks = track_clip(rgb, mask, TrackerConfig(grid_step=SMALL.grid_step))
        camera = estimate_camera(tracks.positions, make_track_mask(tracks.positions, tracks.visible, dilated), size)
        results.append(
            {
                "clip": clip,
                "mask": mask,
                "dilated": dilated,
                "tracks": tracks,
                "track_mask": background_track_mask(tracks, dilated, camera),
                "camera": camera,
            }
        )
    return results


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-corpus")
    write_corpus(8, out, seed=11, config=TINY, workers=2)
    return out


@pytest.fixture(scope="session")
def tiny_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import yaml

    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG))
    return path


@pytest.fixture(scope="session")
def reference_run(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run of the sequential engine on the tiny corpus."""
    out = tmp_path_factory.mktemp("reference")
    run_job(resolve_sources([tiny_corpus]), out, sequential_engine(config_from_dict(TINY_CONFIG)), OPTIONS)
    return out


#: Six clips (static, pan_left, pan_right, tilt_up, tilt_down, zoom_in) at 256x256, curated whole into a test split.
BENCH_CORPUS = SynthConfig(width=256, height=256, frames=24, fps=24.0, grid_step=16)
BENCH_CURATION = {"clips": {"frames": 24, "short_side": 256}, "tracks": {"grid_step": 16}, "quality": {"pyiqa": []}}


@pytest.fixture(scope="session")
def bench_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench_corpus")
    write_corpus(6, out, seed=5, config=BENCH_CORPUS, workers=2)
    return out


@pytest.fixture(scope="session")
def bench_shards(bench_corpus, tmp_path_factory) -> Path:
    """The corpus curated (sequential engine, CPU backends) with every source in the test split."""
    out = tmp_path_factory.mktemp("bench_shards")
    engine = sequential_engine(config_from_dict(BENCH_CURATION))
    run_job(resolve_sources([bench_corpus]), out, engine, JobOptions(test_fraction=1.0, shard_mb=64.0))
    return out


@pytest.fixture(scope="session")
def bench(bench_shards, tmp_path_factory):
    """A benchmark of the curated test split under the weights-free protocol at 128 px (the demo's)."""
    from benchmark.evaluation import define_benchmark
    from benchmark.protocol import get_protocol

    return define_benchmark(bench_shards, tmp_path_factory.mktemp("bench") / "b", get_protocol("bd16-px128-free"))
