"""Shared fixtures: feature networks with random weights (built once per session) and tiny synthetic videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark.features.i3d import I3DFeatures, build_i3d
from benchmark.features.inception import FIDInceptionPool3, InceptionFeatures, build_fid_inception
from benchmark.features.r3d50 import R3D50Features, build_r3d50
from benchmark.features.videomae import VideoMAEFeatures, build_videomae
from tests.helpers.background import write_reference_corpus
from tests.helpers.networks import seeded
from tests.helpers.videos import moving_square_video

TINY_VIDEOMAE = dict(embed_dim=24, depth=1, num_heads=2)


@pytest.fixture(scope="session")
def i3d_net() -> I3DFeatures:
    return I3DFeatures(seeded(build_i3d(), 0, (2, 3, 16, 224, 224)), sha256="0" * 64)


@pytest.fixture(scope="session")
def inception_net() -> InceptionFeatures:
    return InceptionFeatures(
        seeded(FIDInceptionPool3(build_fid_inception()), 1, (4, 3, 64, 64)), sha256="1" * 64, batch_size=8
    )


@pytest.fixture(scope="session")
def r3d_net() -> R3D50Features:
    return R3D50Features(seeded(build_r3d50(), 2, (2, 3, 16, 112, 112), scale=128.0), sha256="2" * 64)


@pytest.fixture(scope="session")
def videomae_net() -> VideoMAEFeatures:
    return VideoMAEFeatures(seeded(build_videomae(**TINY_VIDEOMAE), 3), sha256="3" * 64, feature_dim=24)


@pytest.fixture
def videos() -> list[np.ndarray]:
    return [moving_square_video(16, (32, 40), seed=s) for s in range(4)]


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    """A folder of six synthetic ground-truth clips (`tests.helpers.background.CHOSEN`): mp4, ground truth, plan."""
    return write_reference_corpus(tmp_path_factory.mktemp("bg_corpus"), tmp_path_factory.mktemp("bg_ref"))
