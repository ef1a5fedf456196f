"""One optimiser step of the loop: micro-batches accumulated over `accumulation` equal one step on their mean loss."""

from __future__ import annotations

import copy

import torch

from models.training.config import StageConfig
from models.training.loop import StageState, WorkerContext, optimiser_step


class _Toy(torch.nn.Module):
    """Called as the loop calls the model: (batch, stage=, generator=) -> loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, batch: dict, stage: str, generator: torch.Generator) -> torch.Tensor:
        return (self.linear(batch["x"]) - batch["y"]).square().mean()


def _state(model: torch.nn.Module, accumulation: int) -> StageState:
    stage = StageConfig("image", steps=1, accumulation=accumulation, learning_rate=0.1, max_grad_norm=1e9)
    parameters = list(model.named_parameters())
    optimizer = torch.optim.AdamW([p for _, p in parameters], lr=0.1, weight_decay=0.0)
    return StageState(stage, 0, parameters, optimizer, model)


def test_accumulated_micro_batches_make_one_step_on_their_mean() -> None:
    torch.manual_seed(0)
    batches = [{"x": torch.randn(4, 3), "y": torch.randn(4, 1)} for _ in range(2)]
    accumulated = _Toy()
    whole = copy.deepcopy(accumulated)
    before = copy.deepcopy(accumulated.linear.weight.detach())

    loss = optimiser_step(_state(accumulated, 2), iter(batches), torch.Generator(), WorkerContext(), "no")
    merged = {"x": torch.cat([b["x"] for b in batches]), "y": torch.cat([b["y"] for b in batches])}
    expected = optimiser_step(_state(whole, 1), iter([merged]), torch.Generator(), WorkerContext(), "no")

    assert abs(loss - expected) < 1e-6  # equal-sized micro-batches: the mean of means is the mean
    for a, b in zip(accumulated.parameters(), whole.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert not torch.equal(accumulated.linear.weight, before)  # the step did move the weights
