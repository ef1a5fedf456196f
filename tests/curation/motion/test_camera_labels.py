from __future__ import annotations

import numpy as np
import pytest

from curation.motion import camera_labels as cm
from curation.synthetic.camera_paths import similarity_homographies

SIZE = (640, 360)


def test_decomposition_recovers_the_similarity_it_was_built_from() -> None:
    rng = np.random.default_rng(0)
    tx, ty = rng.uniform(-50, 50, 10), rng.uniform(-50, 50, 10)
    rot, scale = rng.uniform(-20, 20, 10), rng.uniform(0.7, 1.4, 10)
    params = cm.decompose_homographies(similarity_homographies(tx, ty, rot, scale, SIZE), SIZE)
    np.testing.assert_allclose(params.tx, tx, atol=1e-9)
    np.testing.assert_allclose(params.ty, ty, atol=1e-9)
    np.testing.assert_allclose(params.rotation_deg, rot, atol=1e-9)
    np.testing.assert_allclose(params.scale, scale, atol=1e-12)


def test_magnitude_is_the_corner_speed() -> None:
    frames = 11
    shift = np.arange(frames) * 3.0  # 3 px per frame to the right
    h = similarity_homographies(shift, np.zeros(frames), np.zeros(frames), np.ones(frames), SIZE)
    assert cm.camera_magnitude(h, SIZE) == pytest.approx(3.0)
    assert cm.camera_magnitude(np.repeat(np.eye(3)[None], frames, axis=0), SIZE) == 0.0
    assert cm.label_camera_motion(h, SIZE) == cm.PAN_LEFT


def test_labels_compose_in_canonical_order_and_refuse_nonsense() -> None:
    assert cm.compose_label([cm.SHAKE, cm.PAN_RIGHT]) == "pan_right+shake"
    assert cm.compose_label([]) == cm.STATIC
    assert cm.split_label("pan_left+zoom_in") == ("pan_left", "zoom_in")
    with pytest.raises(ValueError, match="unknown camera label"):
        cm.compose_label(["dolly"])
    with pytest.raises(ValueError, match="cannot be combined"):
        cm.compose_label([cm.STATIC, cm.ROLL])
    with pytest.raises(ValueError, match=r"\[T, 3, 3\]"):
        cm.decompose_homographies(np.eye(3), SIZE)
