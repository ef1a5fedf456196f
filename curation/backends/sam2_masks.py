"""Person masks with the SAM2 video predictor, prompted per person with boxes from the pose stage.

The clip is processed in windows of `window` frames: each window gets a fresh inference state holding only its own
frames, every person is prompted with the box of its confident keypoints on the first frame of the window where it
is seen (re-prompting, so a person lost in one window is found again in the next), and masks are propagated forward
(and backward to the window's start when the prompt comes later). Memory therefore depends on the window, not on
the clip's length. Model size, config, image size and checkpoint path are settings; the checkpoint is read with
`weights_only=True` and loaded strictly by `curation.weights.load_strict` (what sam2's own loader does, with the
file named in the error).

`init_state` reads frames from a file or folder; here it is handed the window's frames from memory by standing in
for sam2's `load_video_frames` (one internal name of sam2 1.x, checked at load time).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import cv2
import numpy as np

from curation.weights import load_strict, resolve_weights

CONFIGS = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}
# SAM2's image normalisation (ImageNet mean and std on [0, 1] values).
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass(frozen=True)
class Sam2Settings:
    model_size: str = "tiny"  # tiny, small, base_plus, large (SAM 2.1)
    config: str | None = None  # packaged hydra config; None: configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml
    checkpoint: str | None = None  # None: sam2.1_hiera_{size}.pt in the weights directory; "random": no weights
    weights_dir: str | None = None
    device: str = "auto"
    image_size: int | None = None  # None: the config's (1024); smaller for tests and quick runs
    window: int = 32  # frames per window (each window a fresh inference state)
    confidence: float = 0.3  # keypoints at least this confident define a person's prompt box
    box_padding: float = 0.05  # box enlarged by this fraction of its size on every side
    offload_to_cpu: bool = True  # keep the window's frames and state in host memory (GPU memory stays flat)

    def __post_init__(self) -> None:
        if self.model_size not in CONFIGS:
            raise ValueError(f"sam2.model_size must be one of {sorted(CONFIGS)}, got {self.model_size!r}")
        if self.window < 2:
            raise ValueError(f"sam2.window must be at least 2, got {self.window}")


def build_predictor(settings: Sam2Settings) -> Any:
    import torch
    from sam2.build_sam import build_sam2_video_predictor

    config = settings.config or f"configs/sam2.1/sam2.1_hiera_{CONFIGS[settings.model_size]}.yaml"
    checkpoint = None
    if settings.checkpoint != "random":
        # Resolved before the model is built, so a missing file fails at once.
        checkpoint = resolve_weights(
            f"sam2.1-{settings.model_size}",
            settings.checkpoint,
            weights_dir=settings.weights_dir,
            override="sam2.checkpoint (a file) or sam2.weights_dir",
        )
    overrides = [] if settings.image_size is None else [f"++model.image_size={settings.image_size}"]
    device = settings.device if settings.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    predictor = build_sam2_video_predictor(config, None, device=device, hydra_overrides_extra=overrides)
    if checkpoint is not None:
        # SAM 2 checkpoints hold {"model": state_dict}; the loader unwraps it.
        load_strict(predictor, checkpoint)
    return predictor


def person_boxes(keypoints: np.ndarray, size: tuple[int, int], confidence: float, padding: float) -> np.ndarray:
    """[T, P, 4] boxes (x0, y0, x1, y1) of each person's confident keypoints, NaN where fewer than 2 are."""
    width, height = size
    boxes = np.full((*keypoints.shape[:2], 4), np.nan, np.float32)
    for t, p in np.ndindex(*keypoints.shape[:2]):
        points = keypoints[t, p, keypoints[t, p, :, 2] >= confidence, :2]
        if len(points) < 2:
            continue
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = padding * (hi - lo)
        boxes[t, p] = [
            max(0, lo[0] - pad[0]),
            max(0, lo[1] - pad[1]),
            min(width - 1, hi[0] + pad[0]),
            min(height - 1, hi[1] + pad[1]),
        ]
    return boxes


class Sam2Masks:
    """`masks(rgb, keypoints)` gives per-person masks [T, P, H, W] bool for a clip, window by window."""

    name = "sam2"

    def __init__(self, settings: Sam2Settings | None = None, predictor: Any = None) -> None:
        self.settings = settings or Sam2Settings()
        self.predictor = predictor if predictor is not None else build_predictor(self.settings)
        import sam2.sam2_video_predictor as module

        if not hasattr(module, "load_video_frames"):
            raise RuntimeError("this sam2 version has no sam2_video_predictor.load_video_frames to stand in for")

    @property
    def version(self) -> str:
        return f"sam2.1-{self.settings.model_size} (image size {self.predictor.image_size})"

    @contextlib.contextmanager
    def _frames_from_memory(self, rgb: np.ndarray) -> Iterator[None]:
        import torch

        size = self.predictor.image_size
        images = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) for f in rgb])
        tensor = torch.from_numpy(((images.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2))

        def load(
            *_args: Any, compute_device: Any = None, offload_video_to_cpu: bool = True, **_kwargs: Any
        ) -> tuple[Any, int, int]:
            return (tensor if offload_video_to_cpu else tensor.to(compute_device)), rgb.shape[1], rgb.shape[2]

        with mock.patch("sam2.sam2_video_predictor.load_video_frames", load):
            yield

    def _window(self, rgb: np.ndarray, boxes: np.ndarray, out: np.ndarray) -> None:
        import torch

        s = self.settings
        with self._frames_from_memory(rgb), torch.inference_mode():
            state = self.predictor.init_state(
                video_path="<frames in memory>",
                offload_video_to_cpu=s.offload_to_cpu,
                offload_state_to_cpu=s.offload_to_cpu,
            )
        # SAM2 keeps its memory features in bfloat16 and expects to run under bfloat16 autocast (as upstream's
        # examples do), on the CPU as on CUDA.
        autocast = torch.autocast(self.predictor.device.type, dtype=torch.bfloat16)
        with torch.inference_mode(), autocast:
            first = None
            for p in range(boxes.shape[1]):
                seen = np.flatnonzero(np.isfinite(boxes[:, p, 0]))
                if len(seen) == 0:
                    continue  # this person is not in the window
                self.predictor.add_new_points_or_box(state, frame_idx=int(seen[0]), obj_id=p, box=boxes[seen[0], p])
                first = int(seen[0]) if first is None else min(first, int(seen[0]))
            if first is None:
                return
            passes = [False] + ([True] if first > 0 else [])
            for reverse in passes:
                for t, ids, logits in self.predictor.propagate_in_video(state, start_frame_idx=first, reverse=reverse):
                    masks = (logits[:, 0].float() > 0).cpu().numpy()
                    for i, p in enumerate(ids):
                        out[t, p] = masks[i]
        self.predictor.reset_state(state)

    def masks(self, rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        """Per-person masks [T, P, H, W] bool of clip frames [T, H, W, 3] prompted by keypoints [T, P, 133, 3]."""
        s = self.settings
        frames, height, width = rgb.shape[:3]
        if keypoints.ndim != 4 or keypoints.shape[0] != frames:
            raise ValueError(f"keypoints must be [{frames}, P, 133, 3], got {keypoints.shape}")
        boxes = person_boxes(keypoints, (width, height), s.confidence, s.box_padding)
        out = np.zeros((frames, keypoints.shape[1], height, width), bool)
        for start in range(0, frames, s.window):
            stop = min(start + s.window, frames)
            self._window(rgb[start:stop], boxes[start:stop], out[start:stop])
        return out
