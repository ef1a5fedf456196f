"""Long videos in overlapping temporal windows: which frames each window covers, and how overlapping predictions
blend (bounded memory: one window's activations at a time, whatever the video's length).

Each window's prediction is weighted by a ramp that rises over the first `overlap` frames and falls over the last
`overlap` (1 in between, and at the video's own ends), and every frame is the weighted mean of the windows covering
it. Weights sum to a positive value everywhere, so predictions that agree between windows come out unchanged, and
each window's share fades in and out linearly instead of switching at a border (the anchor averages uniformly).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["blend_windows", "context_windows", "window_weights"]


def context_windows(num_frames: int, context_frames: int, overlap: int) -> list[range]:
    """Windows of `context_frames` frames, neighbours sharing `overlap` frames; the last one ends at the last frame
    (it may overlap its neighbour more). A video no longer than one window is one window."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    if not 0 <= overlap < context_frames:
        raise ValueError(f"need 0 <= overlap < context_frames, got overlap={overlap}, context_frames={context_frames}")
    if num_frames <= context_frames:
        return [range(num_frames)]
    starts = list(range(0, num_frames - context_frames + 1, context_frames - overlap))
    if starts[-1] + context_frames < num_frames:
        starts.append(num_frames - context_frames)
    return [range(s, s + context_frames) for s in starts]


def window_weights(window: range, num_frames: int, overlap: int) -> torch.Tensor:
    """Blend weights of one window's frames: linear ramps (1/(overlap+1) ... 1) at borders shared with another
    window, 1 at the video's first and last frame."""
    length = len(window)
    position = torch.arange(length, dtype=torch.float64)
    rise = (position + 1) / (overlap + 1) if window.start > 0 else torch.ones(length, dtype=torch.float64)
    fall = (length - position) / (overlap + 1) if window.stop < num_frames else torch.ones(length, dtype=torch.float64)
    return torch.minimum(torch.minimum(rise, fall), torch.ones(length, dtype=torch.float64))


def blend_windows(
    num_frames: int,
    windows: list[range],
    overlap: int,
    predict: Callable[[range], torch.Tensor],
    frame_dim: int = 2,
) -> torch.Tensor:
    """Calls `predict(window)` for each window in turn (a tensor with len(window) frames along `frame_dim`) and
    returns the blended prediction for all `num_frames` frames."""
    total = weight_sum = None
    for window in windows:
        prediction = predict(window)
        if total is None:
            shape = list(prediction.shape)
            shape[frame_dim] = num_frames
            total = prediction.new_zeros(shape)
            weight_sum = torch.zeros(num_frames, dtype=torch.float64)
        weights = window_weights(window, num_frames, overlap)
        view = [1] * prediction.ndim
        view[frame_dim] = len(window)
        index = torch.arange(window.start, window.stop, device=prediction.device)
        total.index_add_(frame_dim, index, prediction * weights.to(prediction).view(view))
        weight_sum[window.start : window.stop] += weights
    if total is None or bool((weight_sum <= 0).any()):
        raise ValueError("the windows do not cover every frame")
    view = [1] * total.ndim
    view[frame_dim] = num_frames
    return total / weight_sum.to(total).view(view)
