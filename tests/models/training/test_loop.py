"""One optimiser step of the loop (micro-batches accumulated over `accumulation` equal one step on their mean loss) and
the learning-rate schedule (a function of the step alone, so a resumed stage needs no scheduler state)."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from models.training.config import StageConfig, TrainConfig
from models.training.loop import StageState, WorkerContext, optimiser_step, start_stage


class _Toy(torch.nn.Module):
    """Called as the loop calls the model: (batch, stage=, generator=) -> loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, batch: dict, stage: str, generator: torch.Generator) -> torch.Tensor:
        return (self.linear(batch["x"]) - batch["y"]).square().mean()

    def set_stage(self, stage: str) -> None:
        pass

    def trainable_parameters(self, stage: str) -> list[torch.nn.Parameter]:
        return list(self.parameters())


def _state(model: torch.nn.Module, accumulation: int) -> StageState:
    stage = StageConfig("image", steps=1, accumulation=accumulation, learning_rate=0.1, max_grad_norm=1e9)
    parameters = list(model.named_parameters())
    optimizer = torch.optim.AdamW([p for _, p in parameters], lr=0.1, weight_decay=0.0)
    constant = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return StageState(stage, 0, parameters, optimizer, constant, model)


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


def _rates(schedule: str, steps: int, warmup: int, start: int) -> list[float]:
    """The learning rate of each step from `start` to the stage's end, as the loop sees it."""
    stage = StageConfig("image", steps=steps, learning_rate=0.5, lr_schedule=schedule, warmup_steps=warmup)
    state = start_stage(_Toy(), TrainConfig(stages=(stage,)), 0, WorkerContext(), None, start)
    rates = []
    for _ in range(start, steps):
        rates.append(state.optimizer.param_groups[0]["lr"])
        state.optimizer.step()
        state.learning_rate.step()
    return rates


def test_cosine_schedule_warms_up_decays_and_resumes_at_the_same_rate() -> None:
    rates = _rates("cosine", steps=20, warmup=4, start=0)
    assert rates[:5] == pytest.approx([0.0, 0.125, 0.25, 0.375, 0.5])  # linear warm-up to the stage's rate
    # then half a cosine period over the remaining 16 steps, towards zero
    expected = [0.25 * (1 + math.cos(math.pi * (k - 4) / 16)) for k in range(4, 20)]
    assert rates[4:] == pytest.approx(expected)
    for start in (1, 7, 19):  # a stage resumed at step `start` (from a checkpoint) needs no scheduler state
        assert _rates("cosine", steps=20, warmup=4, start=start) == pytest.approx(rates[start:])
    assert _rates("constant", steps=5, warmup=0, start=2) == [0.5, 0.5, 0.5]


def test_unknown_schedule_and_warmup_past_the_stage_are_refused() -> None:
    with pytest.raises(ValueError, match="lr_schedule: unknown 'cosin'"):
        StageConfig("image", steps=10, lr_schedule="cosin")
    with pytest.raises(ValueError, match="warmup_steps must lie in"):
        StageConfig("image", steps=10, warmup_steps=10)
