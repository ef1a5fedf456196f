"""Which background tracks a clip keeps: "tracks multiplied by the inverse foreground mask" (`make_track_mask`), the
clip's final `track_mask` that the camera's homographies must also explain (`background_track_mask`), and the
K-point sampler for conditioning (`sample_points`)."""

from __future__ import annotations

import numpy as np

from curation.motion.camera_estimation import CameraEstimate
from curation.motion.tracks import Tracks, points_in_mask


def make_track_mask(positions: np.ndarray, visible: np.ndarray, dilated_fgmasks: np.ndarray | None) -> np.ndarray:
    """[T, N] bool: visible and outside the (dilated) foreground mask of each frame."""
    if dilated_fgmasks is None:
        return visible.copy()
    inside = np.stack([points_in_mask(positions[t], dilated_fgmasks[t]) for t in range(len(positions))])
    return visible & ~inside


def background_track_mask(
    tracks: Tracks,
    dilated_fgmasks: np.ndarray | None,
    camera: CameraEstimate,
    off_plane_px: float = 1.0,
    off_plane_fraction: float = 0.2,
) -> np.ndarray:
    """The clip's final `track_mask` [T, N] bool (the shard's member): what stage code and tests both call.

    A (point, frame) pair is kept when the tracker sees the point, it lies outside the dilated foreground mask,
    and the camera's homography for that frame explains it (`camera.consistent`). On top of that a query is
    dropped in every frame when, on at least `off_plane_fraction` of the frames where it is kept otherwise, it
    lies more than `off_plane_px` from where the homography puts its frame-0 position: such a point rides on
    something nearer than the background (a layer moving with parallax, an object) that covered the background
    at frame 0, and its frames that happen to lie within `camera.consistent`'s looser tolerance are not
    background either. `camera` is the estimate made from `make_track_mask`'s mask of the same tracks.
    """
    if not 0 < off_plane_fraction <= 1:
        raise ValueError(f"off_plane_fraction must be in (0, 1], got {off_plane_fraction}")
    if off_plane_px <= 0:
        raise ValueError(f"off_plane_px must be positive, got {off_plane_px}")
    positions = np.asarray(tracks.positions, np.float64)
    if camera.consistent.shape != tracks.visible.shape:
        raise ValueError(
            f"camera estimate covers {camera.consistent.shape} (frames, tracks), the tracks {tracks.visible.shape}"
        )
    kept = make_track_mask(tracks.positions, tracks.visible, dilated_fgmasks)
    frames = len(positions)
    if frames < 2:
        return kept & camera.consistent
    origin = np.concatenate([positions[0], np.ones((positions.shape[1], 1))], axis=1)
    mapped = np.einsum("tij,nj->tni", camera.homographies.astype(np.float64), origin)
    residual = np.linalg.norm(mapped[..., :2] / mapped[..., 2:3] - positions, axis=-1)
    counted = kept[1:].sum(axis=0)
    departs = (kept[1:] & (residual[1:] > off_plane_px)).sum(axis=0)
    off_plane = (counted > 0) & (departs >= off_plane_fraction * counted)
    return kept & camera.consistent & ~off_plane[None, :]


def sample_points(
    track_mask: np.ndarray, k: int, rng: np.random.Generator | None = None, positions: np.ndarray | None = None
) -> np.ndarray:
    """Indices of K tracks (5 to 50, as the paper samples) for conditioning, favouring long masked tracks.

    Candidates are the tracks kept in `track_mask` on the most frames; when `positions` is given, a farthest-point
    pass on frame-0 positions spreads them over the image. Returns fewer than K only if fewer tracks exist.
    """
    if not 5 <= k <= 50:
        raise ValueError(f"k must be between 5 and 50, got {k}")
    rng = rng or np.random.default_rng(0)
    coverage = track_mask.sum(axis=0)
    order = np.argsort(-coverage + rng.uniform(0, 0.5, size=coverage.shape), kind="stable")
    order = order[coverage[order] > 0]
    pool = order[: max(4 * k, k)]
    if len(pool) <= k or positions is None:
        return np.sort(pool[:k])
    xy = positions[0, pool].astype(np.float64)
    chosen = [0]
    distance = np.linalg.norm(xy - xy[0], axis=1)
    for _ in range(k - 1):
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(xy - xy[nxt], axis=1))
    return np.sort(pool[chosen])
