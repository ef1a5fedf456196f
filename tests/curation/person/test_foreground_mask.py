"""The pose-derived foreground mask against the synthetic person masks."""

from __future__ import annotations

import numpy as np
import pytest

from curation.person.foreground_mask import ForegroundConfig, foreground_masks, pose_mask
from curation.synthetic.corpus import unpack_mask


def test_dilated_mask_covers_the_person(small_corpus):
    missed = total = extra = 0
    for clip in small_corpus[:4]:
        truth = unpack_mask(clip["gt"]["fgmask"], clip["rgb"].shape[2])
        mask, dilated = foreground_masks(clip["rgb"], clip["gt"]["keypoints"])
        missed += (truth & ~dilated).sum()
        total += truth.sum()
        extra += (mask & ~truth).sum()
        assert (dilated | ~mask).all()  # dilation only grows
    assert missed / total < 0.002
    assert extra / total < 1.0  # not a blanket: less than twice the person's area


def test_no_confident_keypoints_no_mask():
    keypoints = np.zeros((1, 133, 3), np.float32)
    assert not pose_mask(keypoints, (64, 64)).any()


def test_bad_inputs():
    with pytest.raises(ValueError):
        foreground_masks(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((3, 1, 133, 3)))
    with pytest.raises(ValueError):
        ForegroundConfig(dilation=-1)
