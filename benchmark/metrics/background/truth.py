"""The ground truth a generated video's background is compared with: background tracks, foreground masks, camera.

Read from a `NAME.gt.npz` beside the reference `NAME.mp4` (as `curation.synthetic.corpus.write_corpus` writes it).
Everything here is in the reference clip's pixels; `at_size` maps it to the protocol's resolution so that errors are
measured in pixels of the frames actually compared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from curation.synthetic.corpus import unpack_mask

__all__ = ["BACKGROUND_MEMBERS", "BackgroundTruth", "ground_truth_path", "load_background_truth"]

#: The members of a `NAME.gt.npz` the suite reads (keypoints are not among them).
BACKGROUND_MEMBERS = ("fgmask", "homography", "gt_tracks", "gt_visible")


@dataclass(frozen=True)
class BackgroundTruth:
    """One clip's background ground truth. `source` names the file it came from (for error messages)."""

    tracks: np.ndarray  # [T, N, 2] float64: the frame-0 query grid followed through the clip (background plane)
    visible: np.ndarray  # [T, N] bool: inside the frame and not hidden by a person or anything nearer
    homographies: np.ndarray  # [T, 3, 3] float64: frame-0 background pixels -> frame t (identity at t = 0)
    fgmask: np.ndarray  # [T, H, W] bool: the persons
    source: str = "ground truth"

    def __post_init__(self) -> None:
        t, n = self.visible.shape
        if self.tracks.shape != (t, n, 2):
            raise ValueError(f"{self.source}: tracks {self.tracks.shape} do not match visible {self.visible.shape}")
        if self.homographies.shape != (t, 3, 3):
            raise ValueError(f"{self.source}: homographies must be [{t}, 3, 3], got {self.homographies.shape}")
        if self.fgmask.ndim != 3 or self.fgmask.shape[0] != t:
            raise ValueError(f"{self.source}: fgmask must be [{t}, H, W], got {self.fgmask.shape}")

    @property
    def frames(self) -> int:
        return self.visible.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.fgmask.shape[2], self.fgmask.shape[1]

    @property
    def background_queries(self) -> np.ndarray:
        """[N] bool: grid points that are background at frame 0 (visible there); only these are tracked."""
        return self.visible[0]

    def at_size(self, width: int, height: int) -> BackgroundTruth:
        """The same ground truth for frames resized to width x height (tracks, homographies and masks scaled)."""
        if (width, height) == self.size:
            return self
        sx, sy = width / self.size[0], height / self.size[1]
        scale = np.diag([sx, sy, 1.0])
        homographies = scale @ self.homographies @ np.linalg.inv(scale)
        masks = np.stack(
            [cv2.resize(m.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) for m in self.fgmask]
        ).astype(bool)
        return BackgroundTruth(
            self.tracks * [sx, sy],
            self.visible,
            homographies / homographies[:, 2:3, 2:3],
            masks,
            f"{self.source} (resized to {width}x{height})",
        )

    def check_video(self, video: np.ndarray, name: str) -> None:
        """Refuse a video whose frame count or size differs from this ground truth's, naming both."""
        if video.ndim != 4 or video.shape[3] != 3 or video.dtype != np.uint8:
            raise ValueError(f"{name}: expected uint8 RGB frames [T, H, W, 3], got {video.dtype} {video.shape}")
        if video.shape[0] != self.frames:
            raise ValueError(
                f"{name} has {video.shape[0]} frames but its ground truth {self.source} has "
                f"{self.frames}; the background suite compares frame by frame"
            )
        if (video.shape[2], video.shape[1]) != self.size:
            raise ValueError(
                f"{name} is {video.shape[2]}x{video.shape[1]} but its ground truth {self.source} is "
                f"{self.size[0]}x{self.size[1]}; compare them resized with "
                "--pixel-resolution S or a protocol with one (bd16-px256, bd16-px128)"
            )


def ground_truth_path(reference_video: str | os.PathLike) -> Path:
    """`NAME.gt.npz` beside `NAME.mp4`."""
    video = Path(reference_video)
    return video.with_name(f"{video.stem}.gt.npz")


def load_background_truth(path: str | os.PathLike, width: int) -> BackgroundTruth:
    """Read a `NAME.gt.npz` (checked by `read_ground_truth`) into a `BackgroundTruth` for clips `width` pixels wide
    (the file stores the mask bit-packed along width, which loses the exact width; the reference video has it)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ground truth {path}: the background suite needs NAME.gt.npz beside NAME.mp4")
    # Only what the suite reads: ground truth without keypoints (or with any other members) is accepted.
    with np.load(path, allow_pickle=False) as data:
        missing = [m for m in BACKGROUND_MEMBERS if m not in data.files]
        if missing:
            raise ValueError(f"{path}: the background suite needs {list(BACKGROUND_MEMBERS)}, missing {missing}")
        gt = {m: data[m] for m in BACKGROUND_MEMBERS}
    frames = gt["gt_tracks"].shape[0]
    if gt["gt_visible"].shape != gt["gt_tracks"].shape[:2] or gt["fgmask"].shape[0] != frames:
        raise ValueError(
            f"{path}: gt_tracks {gt['gt_tracks'].shape}, gt_visible {gt['gt_visible'].shape} and fgmask "
            f"{gt['fgmask'].shape} disagree on frames or points"
        )
    packed = gt["fgmask"]
    if not 0 < width <= packed.shape[-1] * 8 or packed.shape[-1] != -(-width // 8):
        raise ValueError(
            f"{path}: its mask is packed for width {packed.shape[-1] * 8 - 7}..{packed.shape[-1] * 8}, "
            f"the reference video is {width} wide"
        )
    mask = unpack_mask(packed, width)
    homographies = gt["homography"].astype(np.float64)
    if homographies.shape != (frames, 3, 3):
        raise ValueError(f"{path}: homography must be [{frames}, 3, 3], got {homographies.shape}")
    return BackgroundTruth(
        gt["gt_tracks"].astype(np.float64), gt["gt_visible"].astype(bool), homographies, mask, str(path)
    )
