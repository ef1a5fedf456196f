"""Background conditioning from a shard's tracks, at the model's resolution (after `CoverCrop`):

- track maps (the disentangled model, arXiv 2405.16393): K background tracks sampled per clip (K drawn from
  [tracks_min, tracks_max], 5-50 as the paper does), kept where the shard's `track_mask` holds ("tracks multiplied
  by the inverse foreground mask"), each drawn in every frame as a Gaussian whose value is (1, x_ref / W, y_ref / H):
  presence, and which reference pixel the point is (its position in the reference frame), so the map says where the
  reference's background went. The map is then multiplied by the inverse person mask, so nothing of it lies on a
  person. `inverse_mask=False` (an ablation) takes the tracker's `visible` instead and multiplies by nothing.
- the warped reference (backdrop's variant): the reference frame with the person masked out, warped to each frame
  by a homography fitted to the sampled tracks (reference -> frame t), plus its validity: dense where the sparse
  tracks are not.
- epipolar geometry between the frames of a training window (the AnimateAnywhere-style model): per ordered pair
  (i, j) a 3x3 matrix and its kind: a homography (transfer: points of i to points of j) where one explains the
  tracks (a plane: the synthetic background, or a rotating camera), else the fundamental matrix (x_j^T F x_i = 0;
  parallax, real footage), from `curation.motion.camera_estimation`; kind 0 where neither can be estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from curation.motion.camera_estimation import fundamental_matrix

__all__ = [
    "GEOMETRY_FUNDAMENTAL",
    "GEOMETRY_HOMOGRAPHY",
    "GEOMETRY_NONE",
    "BackgroundInputs",
    "epipolar_geometry",
    "render_track_maps",
    "sample_tracks",
    "track_guider_channels",
    "warped_references",
]

GEOMETRY_NONE, GEOMETRY_HOMOGRAPHY, GEOMETRY_FUNDAMENTAL = 0, 1, 2


@dataclass(frozen=True)
class BackgroundInputs:
    """Which background inputs a model reads (models.config builds it from the model's configuration)."""

    track_maps: bool = False
    tracks_min: int = 5
    tracks_max: int = 50
    inverse_mask: bool = True  # ablation switch: False draws every visible track, on the person too
    track_sigma: float = 1.5  # Gaussian radius of a drawn track, model pixels
    warped_reference: bool = False  # backdrop's variant
    epipolar: bool = False
    plane_inlier_ratio: float = 0.9  # a homography explaining this share of the tracks: the background is a plane
    plane_threshold_px: float = 1.0  # homography inlier threshold, model pixels

    def __post_init__(self) -> None:
        if not 1 <= self.tracks_min <= self.tracks_max:
            raise ValueError(f"need 1 <= tracks_min <= tracks_max, got {self.tracks_min}, {self.tracks_max}")
        if self.track_sigma <= 0:
            raise ValueError(f"track_sigma must be positive, got {self.track_sigma}")
        if self.warped_reference and not self.track_maps:
            raise ValueError("warped_reference fits its homographies to the sampled tracks: it needs track_maps")

    @property
    def any(self) -> bool:
        return self.track_maps or self.epipolar


def track_guider_channels(inputs: BackgroundInputs) -> int:
    """Channels of the track guider's input: the track map (3), and the warped reference and its validity (4)."""
    return 3 + (4 if inputs.warped_reference else 0)


def sample_tracks(kept: np.ndarray, reference: int, k_range: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Indices of K tracks (K uniform in k_range, at most as many as there are), among those kept at the reference
    frame and in at least one other frame: the tracks whose motion the map can show."""
    candidates = np.flatnonzero(kept[reference] & (kept.sum(axis=0) >= 2))
    k = int(rng.integers(k_range[0], k_range[1] + 1))
    if len(candidates) <= k:
        return candidates
    return np.sort(rng.choice(candidates, size=k, replace=False))


def render_track_maps(
    positions: np.ndarray,
    kept: np.ndarray,
    reference_positions: np.ndarray,
    size: tuple[int, int],
    sigma: float,
    person: np.ndarray | None = None,
) -> np.ndarray:
    """float32 [T, 3, H, W] maps of tracks at `positions` [T, K, 2] (model pixels), drawn where `kept` [T, K];
    `reference_positions` [K, 2] give each track's identity; `person` [T, H, W] bool zeroes the maps on persons."""
    height, width = size
    frames = positions.shape[0]
    maps = np.zeros((frames, 3, height, width), np.float32)
    if positions.shape[1] == 0:
        return maps
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    identity = np.stack([np.ones(len(reference_positions)), reference_positions[:, 0] / width,
                         reference_positions[:, 1] / height], axis=1).astype(np.float32)  # fmt: skip
    for t in range(frames):
        points = positions[t, kept[t]]
        if len(points) == 0:
            continue
        d2 = (xs[None] - points[:, 0, None, None]) ** 2 + (ys[None] - points[:, 1, None, None]) ** 2
        weights = np.exp(-d2 / (2 * sigma**2))  # [K, H, W]
        nearest = weights.argmax(axis=0)
        presence = weights.max(axis=0)
        maps[t] = presence[None] * identity[kept[t]][nearest].transpose(2, 0, 1)
    if person is not None:
        maps *= ~person[:, None]
    return maps


def _fit_homography(source: np.ndarray, target: np.ndarray, threshold: float) -> tuple[np.ndarray | None, float]:
    if len(source) < 4:
        return None, 0.0
    h, inliers = cv2.findHomography(source.astype(np.float64), target.astype(np.float64), cv2.USAC_MAGSAC, threshold)
    if h is None:
        return None, 0.0
    return h / h[2, 2], float(inliers.mean())


def warped_references(
    reference: np.ndarray,
    reference_person: np.ndarray,
    positions: np.ndarray,
    kept: np.ndarray,
    reference_positions: np.ndarray,
    reference_kept: np.ndarray,
    threshold_px: float = 2.0,
) -> np.ndarray:
    """float32 [T, 4, H, W]: the reference (uint8 [H, W, 3]) with its person (`reference_person` [H, W] bool) masked
    out, warped into each frame by the homography of the sampled tracks (reference -> frame t), in [0, 1], and the
    warp's validity (1 where a background pixel of the reference lands); all zero where no homography fits."""
    height, width = reference_person.shape
    background = (~reference_person).astype(np.float32)
    image = reference.astype(np.float32) / 255.0 * background[..., None]
    out = np.zeros((positions.shape[0], 4, height, width), np.float32)
    for t in range(positions.shape[0]):
        both = kept[t] & reference_kept
        h, _ = _fit_homography(reference_positions[both], positions[t, both], threshold_px)
        if h is None:
            continue
        out[t, :3] = cv2.warpPerspective(image, h, (width, height), flags=cv2.INTER_LINEAR).transpose(2, 0, 1)
        out[t, 3] = cv2.warpPerspective(background, h, (width, height), flags=cv2.INTER_LINEAR) > 0.5
    return out


def epipolar_geometry(
    positions: np.ndarray, kept: np.ndarray, inputs: BackgroundInputs
) -> tuple[np.ndarray, np.ndarray]:
    """(matrices float32 [F, F, 3, 3], kinds int64 [F, F]) between the frames of tracks [F, N, 2] (model pixels)
    kept [F, N]: GEOMETRY_HOMOGRAPHY where a homography explains `plane_inlier_ratio` of the shared tracks (the
    matrix maps frame i's points to frame j's), else GEOMETRY_FUNDAMENTAL (x_j^T F x_i = 0), GEOMETRY_NONE on the
    diagonal and where neither is estimated."""
    frames = positions.shape[0]
    matrices = np.tile(np.eye(3, dtype=np.float32), (frames, frames, 1, 1))
    kinds = np.zeros((frames, frames), np.int64)
    for i in range(frames):
        for j in range(i + 1, frames):
            both = kept[i] & kept[j]
            h, ratio = _fit_homography(positions[i, both], positions[j, both], inputs.plane_threshold_px)
            if h is not None and ratio >= inputs.plane_inlier_ratio:
                matrices[i, j], matrices[j, i] = h, np.linalg.inv(h)
                kinds[i, j] = kinds[j, i] = GEOMETRY_HOMOGRAPHY
                continue
            f, _ = fundamental_matrix(positions, kept, i, j)
            if f is not None:
                matrices[i, j], matrices[j, i] = f, f.T
                kinds[i, j] = kinds[j, i] = GEOMETRY_FUNDAMENTAL
    return matrices, kinds
