"""Helpers for tests on the synthetic corpus."""

from __future__ import annotations

import numpy as np


def gt_visible_for(result: dict) -> np.ndarray:
    return result["clip"]["gt"]["gt_visible"][:, result["tracks"].grid_index]
