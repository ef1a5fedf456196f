"""The model tests run on one torch intra-op thread: on a loaded 2-core machine two threads spin against each other
(steps measured 20x slower), and results then depend on nothing but the code."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
