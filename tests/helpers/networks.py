"""Feature networks with random weights for tests."""

from __future__ import annotations

import torch


def seeded(
    module: torch.nn.Module, seed: int, example: tuple[int, ...] | None = None, scale: float = 1.0
) -> torch.nn.Module:
    """Random weights from `seed`; with `example` (an input shape), BatchNorm statistics are set from one batch of
    noise of the input's range (`scale`), as a trained network's would be: without that, features vanish (~1e-8) or
    explode (~1e4), and distances are zero for the wrong reason or too large for absolute tolerances."""
    torch.manual_seed(seed)
    for m in module.modules():
        if hasattr(m, "reset_parameters") and m is not module:
            m.reset_parameters()
    if example is not None:
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.momentum = None  # cumulative average: the running statistics become this batch's
                m.reset_running_stats()
        module.train()
        with torch.no_grad():
            module((torch.rand(example) * 2 - 1) * scale)
    return module.eval()
