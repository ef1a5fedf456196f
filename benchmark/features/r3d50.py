"""3D ResNet-50 (Kinetics) for FID-VID as DisCo computes it.

DisCo's FID-VID ("FVD-3DRN50") uses Kensho Hara's 3D-ResNets-PyTorch `resnet-50-kinetics.pth` (Kinetics-400,
shortcut type B) with the classifier removed: 2048-d features after global average pooling, inputs of 16 frames at
112x112, values 0-255 minus the Kinetics mean, each video cut into consecutive 16-frame segments (the last one padded
by repeating the last frame) and the segment features averaged per video.

No package on the registry ships this architecture with these module names (torchvision has r3d_18 only;
pytorchvideo's `slow_r50` names its modules `blocks.N...` and has different stems and weights), so it is written
here with the names of Hara's checkpoints: conv1/bn1, layer1..layer4 of Bottleneck blocks
(conv1..3, bn1..3, downsample.0/1), fc. The newer `r3d50_K_200ep.pth` uses the same names with a 700-way fc.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from benchmark.features.base import FeatureNet

__all__ = ["KINETICS_MEAN", "R3D50Features", "ResNet3D50", "build_r3d50", "r3d50_segments", "resize_channels_float"]

KINETICS_MEAN = (114.7748, 107.7354, 99.4750)  # 3D-ResNets' mean in 0-255, subtracted without dividing by a std


class Bottleneck3D(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + residual)


class ResNet3D50(nn.Module):
    """Hara's ResNet-50-3D (shortcut B). `forward` returns the 2048-d pooled features (DisCo's last_fc=False)."""

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv3d(3, 64, kernel_size=7, stride=(1, 2, 2), padding=(3, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(kernel_size=(3, 3, 3), stride=2, padding=1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, stride=2)
        self.layer3 = self._make_layer(256, 6, stride=2)
        self.layer4 = self._make_layer(512, 3, stride=2)
        # Hara's AvgPool3d((ceil(T/16), ceil(H/32), ceil(W/32))) covers the whole 1x4x4 map at 16x112x112:
        # the same as a global average there.
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(512 * Bottleneck3D.expansion, num_classes)  # kept so the checkpoint loads strictly

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck3D.expansion:
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes * Bottleneck3D.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm3d(planes * Bottleneck3D.expansion),
            )
        layers = [Bottleneck3D(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * Bottleneck3D.expansion
        layers += [Bottleneck3D(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)


def build_r3d50(num_classes: int = 400) -> nn.Module:
    return ResNet3D50(num_classes=num_classes)


def resize_channels_float(frame: np.ndarray, size: int) -> np.ndarray:
    """float32 [size, size, 3]: each channel of a uint8 frame [H, W, 3] resized with PIL bicubic in float (mode F)."""
    channels = [
        np.asarray(Image.fromarray(frame[..., c].astype(np.float32)).resize((size, size), Image.BICUBIC))
        for c in range(frame.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def r3d50_segments(video: np.ndarray, *, segment: int = 16, size: int = 112) -> torch.Tensor:
    """DisCo's FID-VID input for one video: uint8 [T, H, W, 3] to [S, 3, segment, size, size].

    Frames are resized as DisCo's metric code resizes them: each channel on its own as a float32 image (PIL mode F),
    PIL bicubic, neither rounded nor clipped (bicubic overshoots past 0..255 at edges, and the values stay so; the
    former route through uint8 RGB images rounded and clipped, which moved the features by ~4e-4 relative). The frame
    count is padded to a multiple of `segment` by repeating the last frame, and the Kinetics mean is subtracted.
    """
    if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8:
        raise ValueError(f"expected a uint8 video [T, H, W, 3], got {video.dtype} {video.shape}")
    frames = [resize_channels_float(f, size) for f in video]
    pad = (-len(frames)) % segment
    frames += [frames[-1]] * pad
    x = torch.from_numpy(np.stack(frames)).float() - torch.tensor(KINETICS_MEAN)
    x = x.reshape(-1, segment, size, size, 3)
    return x.permute(0, 4, 1, 2, 3).contiguous()


class R3D50Features(FeatureNet):
    """FID-VID features: one video uint8 [T, H, W, 3] at a time, output one row [1, 2048] (segment mean)."""

    network = "fidvid-r3d50"
    segment = 16

    @staticmethod
    def build() -> nn.Module:
        return build_r3d50()

    def preprocess(self, batch: np.ndarray) -> torch.Tensor:
        return r3d50_segments(batch, segment=self.segment, size=self.spec.resolution)

    @torch.no_grad()
    def video_features(self, video: np.ndarray) -> np.ndarray:
        """[1, 2048]: the mean of the features of the video's 16-frame segments."""
        segments = self.preprocess(video)
        rows = [
            self.forward(segments[i : i + self.batch_size].to(self.device)).double().cpu()
            for i in range(0, segments.shape[0], self.batch_size)
        ]
        return torch.cat(rows).mean(0, keepdim=True).numpy()

    def features(self, batch: np.ndarray) -> np.ndarray:
        """Videos uint8 [B, T, H, W, 3] to [B, 2048] (each video averaged over its segments)."""
        return np.concatenate([self.video_features(v) for v in batch], axis=0)
