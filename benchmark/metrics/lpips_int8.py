"""LPIPS's AlexNet on oneDNN's int8 convolutions, with float32 values kept (the `int8-limbs` route of `LPIPS`).

Why: pyiqa's float32 AlexNet already runs at the cores' float32 peak here, and it is most of the time of PSNR +
SSIM + LPIPS (reports/pixel_speed.md). On CPUs with VNNI or AMX, oneDNN's int8 convolutions are several times
faster (measured on this machine's AMX: 6-15x for AlexNet's conv2-conv5 at 512 px). int8 alone would lose the values,
so every float32 operand is written as two 8-bit limbs, v ~ s * (hi + lo / 254), and a convolution of two such operands
is three int8 convolutions with exact int32 accumulation (x_hi*w_hi + x_hi*w_lo + x_lo*w_hi; the dropped x_lo*w_lo is
about 2^-16 of the result). The features differ from float32 by about 1e-4 of their largest value, and LPIPS values by
about 1e-5 relative: far inside the 1e-4 the benchmark allows (tests/benchmark/test_lpips_int8.py; the report).

The first convolution needs only the weight limbs: its input is an affine map of the uint8 frame
(x = a_c * u + b_c, pyiqa's [-1, 1] scaling and its ScalingLayer), so u itself is the exact int8 operand, a_c is
folded into the weights, and the b_c part, which does not depend on the frame, is a precomputed map (the zero padding
is where it differs from a constant).

Frame pairs are scored one at a time: the activation scales are then those of the pair alone (a value does not depend
on the other frames of a video), and each pair's tensors stay in the caches (per pair, 1.6x faster than batches of
16 pairs on one core here). It needs PyTorch's oneDNN int8 operators (x86 CPUs); `int8_route_available` says
whether they are here.
"""

from __future__ import annotations

import platform
import warnings

import torch

__all__ = ["Int8LpipsNet", "int8_route_available", "lpips_distance"]

_EPS = 1e-10  # pyiqa's normalize_tensor
_WEIGHT_STEPS = 127.0  # signed 8-bit limbs
_ACT_STEPS = 255.0  # unsigned 8-bit high limb of a ReLU output
_LOW_STEPS = 254.0  # the low limb's step is the high limb's / 254: |residual| <= step / 2 fits in [-127, 127]


def int8_route_available() -> bool:
    """Whether this PyTorch build has oneDNN's int8 convolution operators on this CPU."""
    return (
        platform.machine().lower() in {"x86_64", "amd64"}
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.onednn, "qconv2d_pointwise")
        and hasattr(torch.ops.onednn, "qconv_prepack")
        and hasattr(torch, "quantize_per_tensor")
    )


def _weight_limbs(weight: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per output channel: (int8 limb, float32 scale) for the high and the low limb of `weight` (K, C, kh, kw)."""
    w = weight.detach().double()
    scale = w.abs().amax(dim=(1, 2, 3)).clamp_min(1e-30) / _WEIGHT_STEPS
    hi = torch.round(w / scale[:, None, None, None])
    low_scale = scale / _LOW_STEPS
    lo = torch.round((w - hi * scale[:, None, None, None]) / low_scale[:, None, None, None])
    return [(hi.to(torch.int8), scale.float()), (lo.clamp(-127, 127).to(torch.int8), low_scale.float())]


class _LimbConv2d:
    """One float32 convolution (+ bias, + ReLU) as int8 convolutions on 8-bit limbs, weights prepacked once."""

    def __init__(self, conv: torch.nn.Conv2d, weight: torch.Tensor | None = None) -> None:
        if conv.groups != 1 or conv.dilation != (1, 1):
            raise ValueError(f"int8 limbs: unsupported convolution {conv}")
        self.stride, self.padding = list(conv.stride), list(conv.padding)
        self.bias = None if conv.bias is None else conv.bias.detach().float()
        self.zero_points = torch.zeros(conv.out_channels, dtype=torch.int64)
        self.limbs = [
            (torch.ops.onednn.qconv_prepack(q, s, 1.0, 0, self.stride, self.padding, [1, 1], 1, None), s)
            for q, s in _weight_limbs(conv.weight if weight is None else weight)
        ]

    def _conv(self, qx: torch.Tensor, x_scale: float, x_zero: int, limb: int, bias: torch.Tensor | None):
        packed, w_scale = self.limbs[limb]
        return torch.ops.onednn.qconv2d_pointwise(
            qx, x_scale, x_zero, packed, w_scale, self.zero_points, bias, self.stride, self.padding, [1, 1], 1,
            1.0, 0, torch.float32, "none", [], "",
        )  # fmt: skip

    def on_uint8(self, frames: torch.Tensor) -> torch.Tensor:
        """The convolution of uint8 frames (N, C, H, W, channels-last) taken as exact integers, without its bias."""
        out = self._conv(frames, 1.0, 0, 0, None)
        return out.add_(self._conv(frames, 1.0, 0, 1, None))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """ReLU(conv(x) + bias) for a float32 input x >= 0 (a ReLU or max-pool output), channels-last."""
        scale = float(x.amax()) / _ACT_STEPS
        if scale == 0.0:  # an all-zero input: every limb is zero
            scale = 1.0
        low_scale = scale / _LOW_STEPS
        # quantize_per_tensor rounds, clamps and casts in one pass (three with round, clamp, to); its deprecation
        # warning concerns the quantized tensor type, of which only the integers are used.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
            hi = torch.quantize_per_tensor(x, scale, 0, torch.quint8)
            lo = torch.quantize_per_tensor(x - hi.dequantize(), low_scale, 128, torch.quint8).int_repr()
        hi = hi.int_repr()
        out = self._conv(hi, scale, 0, 0, self.bias)
        out.add_(self._conv(hi, scale, 0, 1, None))
        out.add_(self._conv(lo, low_scale, 128, 0, None))
        return out.relu_()


class Int8LpipsNet:
    """pyiqa's LPIPS network (v0.1, AlexNet) evaluated on int8 limbs: `features` of uint8 frames and `distance`.

    Built from a loaded pyiqa LPIPS network (`benchmark.metrics.lpips.build_lpips` + weights); the weights are read
    once, so rebuild after loading others.
    """

    def __init__(self, lpips_net: torch.nn.Module) -> None:
        trunk = lpips_net.net
        convs = [m for m in trunk.modules() if isinstance(m, torch.nn.Conv2d)]
        pools = [m for m in trunk.modules() if isinstance(m, torch.nn.MaxPool2d)]
        if len(convs) != 5 or len(pools) != 2 or lpips_net.version != "0.1":
            raise ValueError("int8 limbs: expected pyiqa's LPIPS v0.1 with the AlexNet trunk")
        self.pools = pools
        shift = lpips_net.scaling_layer.shift.detach().double().reshape(3)
        scale = lpips_net.scaling_layer.scale.detach().double().reshape(3)
        # pyiqa: x = ((2 u / 255 - 1) - shift) / scale = a u + b, per colour channel
        self.input_gain = 2.0 / (255.0 * scale)
        self.input_offset = (-1.0 - shift) / scale
        first = convs[0]
        self.first_conv = first
        self.first = _LimbConv2d(first, first.weight.detach().double() * self.input_gain[None, :, None, None])
        self.rest = [_LimbConv2d(c) for c in convs[1:]]
        self.lin_weights = [lin.model[-1].weight.detach().float().reshape(-1) for lin in lpips_net.lins]
        self._offset_maps: dict[tuple[int, int], torch.Tensor] = {}

    def _offset_map(self, height: int, width: int) -> torch.Tensor:
        """conv1 of the constant input b (zero-padded) plus conv1's bias: the frame-independent part of conv1."""
        key = (height, width)
        if key not in self._offset_maps:
            conv = self.first_conv
            constant = self.input_offset.reshape(1, 3, 1, 1).expand(1, 3, height, width)
            self._offset_maps[key] = torch.nn.functional.conv2d(
                constant, conv.weight.detach().double(), conv.bias.detach().double(), conv.stride, conv.padding
            ).float()
        return self._offset_maps[key]

    @torch.inference_mode()
    def features(self, frames: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU feature maps (float32, channels-last) of uint8 frames (N, H, W, 3)."""
        if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(
                f"int8 limbs: expected uint8 frames (N, H, W, 3), got {tuple(frames.shape)} {frames.dtype}"
            )
        u = frames.permute(0, 3, 1, 2)  # NCHW view of NHWC memory: channels-last
        h = self.first.on_uint8(u).add_(self._offset_map(*frames.shape[1:3])).relu_()
        out = [h]
        h = self.rest[0](self.pools[0](h))
        out.append(h)
        h = self.rest[1](self.pools[1](h))
        out.append(h)
        for conv in self.rest[2:]:
            h = conv(h)
            out.append(h)
        return out

    @torch.inference_mode()
    def distance(self, pred: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """LPIPS per frame pair (float32, shape (N,)) of uint8 frames (N, H, W, 3), as pyiqa defines it; one pair at
        a time (see the module's note)."""
        if pred.shape != ref.shape:
            raise ValueError(f"int8 limbs: frame shapes differ: {tuple(pred.shape)} vs {tuple(ref.shape)}")
        return torch.cat(
            [
                lpips_distance(self.features(torch.stack([p, r])), self.lin_weights, 1)
                for p, r in zip(pred, ref, strict=True)
            ]
        )


def lpips_distance(features: list[torch.Tensor], lin_weights: list[torch.Tensor], n: int) -> torch.Tensor:
    """LPIPS from the feature maps of 2n frames (the first n against the last n): per layer, unit-normalise each
    position's channel vector, weight the squared differences by the layer's linear head, average over positions."""
    total = torch.zeros(n)
    for f, w in zip(features, lin_weights, strict=True):
        f = f * (1.0 / (torch.linalg.vector_norm(f, dim=1, keepdim=True) + _EPS))  # one division per position
        d = f[:n] - f[n:]
        d.square_()
        # (n, H, W, C) @ (C,) on channels-last memory: one pass for the 1x1 head
        total += (d.permute(0, 2, 3, 1) @ w).mean(dim=(1, 2))
    return total
