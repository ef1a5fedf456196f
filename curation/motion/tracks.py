"""Background point tracks on the CPU: grid queries on frame 0, pyramidal Lucas-Kanade with a forward-backward
check, occlusion and exits, re-acquisition after an occlusion (and of background points that something nearer
hid at frame 0). Which tracks a clip keeps (the track mask) and the K-point sampler are in
`curation.motion.track_mask`.

A point is not visible in a frame when the forward-backward error is too large, when it is outside the frame, or
when it is inside the foreground mask (a person passes in front of it). See `track_points` for how frames are
matched against frame 0 (no drift, re-acquisition after an occlusion).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class TrackerConfig:
    backend: str = "opencv-lk"  # "cotracker3": curation.backends.cotracker (settings in the `cotracker` section)
    grid_step: int = 16  # spacing of the frame-0 query grid (pixels); the first row/column sits at step / 2
    window: int = 17  # Lucas-Kanade window (pixels); 21 cost 1.75x the time for the same accuracy here
    levels: int = 3  # pyramid levels above the base, frame to frame (large motion)
    refine_levels: int = 0  # pyramid levels when matching against frame 0 after the warp (small residuals)
    fb_threshold: float = 0.75  # forward-backward error (pixels) above which a point is lost
    patch: int = 5  # side of the patch whose mean absolute difference against frame 0 tests the appearance
    photometric_threshold: float = 12.0  # grey levels
    border: float = 1.0  # a point closer than this to the image border counts as having left
    # Whether a point inside the foreground mask counts as occluded. Off by default: a pose-derived mask is larger
    # than the person, and the appearance test already catches a person passing in front; `track_mask` applies
    # the (dilated) mask anyway.
    occlusion_from_mask: bool = False
    # Re-acquisition of queries never matched after frame 0 (see `_reacquire`): how many frames' appearances must
    # agree before a revealed background point counts as found.
    reacquire_min_frames: int = 3
    # Speed: the frame-to-frame motion that predicts each frame's homography needs only a spread subset of the
    # points, and one matching pass against frame 0 per frame suffices once that prediction is re-fitted to the
    # frame-0 matches every frame (no drift); a second pass re-matches after the refit.
    step_points: int = 64
    match_passes: int = 1

    def __post_init__(self) -> None:
        if self.grid_step < 2:
            raise ValueError(f"grid_step must be at least 2, got {self.grid_step}")
        if self.window < 5 or self.window % 2 == 0:
            raise ValueError(f"window must be an odd number >= 5, got {self.window}")
        if self.fb_threshold <= 0:
            raise ValueError(f"fb_threshold must be positive, got {self.fb_threshold}")
        if self.reacquire_min_frames < 1:
            raise ValueError(f"reacquire_min_frames must be at least 1, got {self.reacquire_min_frames}")
        if self.step_points < 8:
            raise ValueError(f"step_points must be at least 8 (a homography), got {self.step_points}")
        if self.match_passes < 1:
            raise ValueError(f"match_passes must be at least 1, got {self.match_passes}")


@dataclass(frozen=True)
class Tracks:
    queries: np.ndarray  # [N, 2] float32, frame-0 positions
    grid_index: np.ndarray  # [N] int: index of each query in the full row-major grid (for ground-truth matching)
    positions: np.ndarray  # [T, N, 2] float32
    visible: np.ndarray  # [T, N] bool


def grid_points(size: tuple[int, int], step: int) -> np.ndarray:
    """[M, 2] float32: the full row-major grid (x, y) with spacing `step`, starting at step / 2."""
    width, height = size
    xs = np.arange(step / 2, width, step)
    ys = np.arange(step / 2, height, step)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def grid_queries(size: tuple[int, int], step: int, fgmask0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Grid points of frame 0 that lie outside the foreground mask: (points [N, 2], their grid indices [N])."""
    points = grid_points(size, step)
    keep = np.ones(len(points), bool)
    if fgmask0 is not None:
        if fgmask0.shape != (size[1], size[0]):
            raise ValueError(f"fgmask0 must be [H, W] = {(size[1], size[0])}, got {fgmask0.shape}")
        xi, yi = points[:, 0].astype(int), points[:, 1].astype(int)
        keep = ~fgmask0[yi, xi].astype(bool)
    return points[keep], np.flatnonzero(keep)


def _inside(points: np.ndarray, size: tuple[int, int], border: float) -> np.ndarray:
    width, height = size
    x, y = points[:, 0], points[:, 1]
    return (x >= border) & (x <= width - 1 - border) & (y >= border) & (y <= height - 1 - border)


def points_in_mask(points: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        return np.zeros(len(points), bool)
    height, width = mask.shape
    xi = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    yi = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    return mask[yi, xi].astype(bool)


def _sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    height, width = image.shape
    xi = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    yi = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    return image[yi, xi]


def _lk_fb(
    prev: np.ndarray,
    curr: np.ndarray,
    points: np.ndarray,
    guess: np.ndarray | None,
    config: TrackerConfig,
    levels: int,
    backward: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Lucas-Kanade prev -> curr with a forward-backward check (unless `backward` is off): (new points [n, 2],
    ok [n])."""
    if len(points) == 0:
        return points.copy(), np.zeros(0, bool)
    params = {
        "winSize": (config.window, config.window),
        "maxLevel": levels,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    p0 = points.reshape(-1, 1, 2).astype(np.float32)
    if guess is not None:
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(
            prev,
            curr,
            p0,
            guess.reshape(-1, 1, 2).astype(np.float32).copy(),
            flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
            **params,
        )
    else:
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, curr, p0, None, **params)
    if not backward:
        return p1.reshape(-1, 2), st1.ravel() == 1
    back, st2, _ = cv2.calcOpticalFlowPyrLK(curr, prev, p1, p0.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **params)
    fb = np.linalg.norm(back.reshape(-1, 2) - points, axis=1)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < config.fb_threshold)
    return p1.reshape(-1, 2), ok


def _frame_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    if len(src) < 8:
        return None
    h, _ = cv2.findHomography(src, dst, cv2.RANSAC, 2.0)
    return h


def _apply(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    homog = np.concatenate([points, np.ones((len(points), 1), points.dtype)], axis=1) @ h.T
    return (homog[:, :2] / homog[:, 2:3]).astype(np.float32)


def _step_homography(
    prev: np.ndarray,
    curr: np.ndarray,
    points: np.ndarray,
    mask_prev: np.ndarray | None,
    mask_curr: np.ndarray | None,
    config: TrackerConfig,
) -> np.ndarray | None:
    """Frame-to-frame homography of the scene's dominant motion, from `points` of the previous frame (topped up with
    a fresh grid outside the foreground when too few remain, as in a long pan)."""
    height, width = prev.shape
    size = (width, height)
    points = points[_inside(points, size, config.border) & ~points_in_mask(points, mask_prev)]
    if len(points) < 64:
        grid = grid_points(size, config.grid_step)
        points = np.concatenate([points, grid[~points_in_mask(grid, mask_prev)]]).astype(np.float32)
    if len(points) > config.step_points:  # an even spread over the row-major order covers the whole frame
        points = points[np.linspace(0, len(points) - 1, config.step_points).round().astype(int)]
    # No backward check: RANSAC rejects the few bad matches, and this homography only predicts the frame's.
    new, ok = _lk_fb(prev, curr, points, None, config, config.levels, backward=False)
    ok &= _inside(new, size, config.border) & ~points_in_mask(new, mask_curr)
    return _frame_homography(points[ok], new[ok])


def _match_frame0(
    gray0: np.ndarray, frame: np.ndarray, h: np.ndarray, queries: np.ndarray, config: TrackerConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries matched in `frame` after warping it into frame 0's coordinates with `h`: (positions in frame-0
    coordinates, appearance agrees [N], the warped frame)."""
    height, width = gray0.shape
    warped = cv2.warpPerspective(
        frame, h, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    # Few pyramid levels: the residual is small, and coarse levels would let the warp's replicated border and the
    # foreground pull a point far away.
    found, ok = _lk_fb(gray0, warped, queries, queries, config, config.refine_levels)
    # Where Lucas-Kanade cannot lock on (flat texture), the scene's motion still predicts the point: it counts as
    # visible if the local appearance there agrees with frame 0, which also rejects points that something nearer
    # (an object, a nearer layer) has covered.
    found = np.where(ok[:, None], found, queries)
    difference = cv2.blur(cv2.absdiff(gray0, warped), (config.patch, config.patch))
    return found, _sample(difference, found) < config.photometric_threshold, warped


#: Offsets (pixels) of the samples that describe a point's appearance in frame-0 coordinates: a 3x3 lattice.
_DESCRIPTOR_OFFSETS = np.array([(dx, dy) for dy in (-3, 0, 3) for dx in (-3, 0, 3)], np.float32)


def _descriptors(warped: np.ndarray, queries: np.ndarray, patch: int) -> np.ndarray:
    """[N, 9] float32: the patch-averaged grey levels of `warped` (a frame in frame-0 coordinates) on a small
    lattice about each query; two frames agree at a point when these agree."""
    blurred = cv2.blur(warped, (patch, patch))
    points = (queries[:, None, :] + _DESCRIPTOR_OFFSETS[None]).reshape(-1, 2)
    return _sample(blurred, points).reshape(len(queries), -1).astype(np.float32)


def _reacquire(
    descriptors: np.ndarray, usable: np.ndarray, candidates: np.ndarray, config: TrackerConfig
) -> np.ndarray:
    """[T, C] bool visibility of the `candidates` (queries not on the background at frame 0), from their
    appearance in frame-0 coordinates (`descriptors` [T, N, 9]) in the frames where they are `usable` [T, N]
    (inside the frame, outside the foreground).

    Frame 0 shows whatever hid the background point, so frame 0's appearance cannot serve as the template. Once
    the nearer thing moves off, the background point appears at the place the scene's motion predicts and keeps
    one appearance (the background is still in frame-0 coordinates): the template is the appearance, unlike
    frame 0's, that the most frames agree on, and the point is visible where the frame agrees with it.
    """
    frames = len(descriptors)
    out = np.zeros((frames, len(candidates)), bool)
    for column, n in enumerate(candidates):
        d = descriptors[:, n]  # [T, 9]
        # Mean absolute difference between every pair of frames: [T, T].
        distance = np.abs(d[:, None, :] - d[None, :, :]).mean(axis=2)
        agree = (distance < config.photometric_threshold) & usable[:, n][None, :] & usable[:, n][:, None]
        # Only an appearance unlike frame 0's can be the revealed background.
        template = usable[:, n] & ~agree[0]
        template[0] = False
        if not template.any():
            continue
        support = np.where(template, (agree & ~agree[0][None, :]).sum(axis=1), 0)
        best = int(np.argmax(support))
        if support[best] >= config.reacquire_min_frames:
            out[:, column] = agree[best] & ~agree[0]
    out[0] = False
    return out


def track_points(
    gray: np.ndarray, queries: np.ndarray, fgmasks: np.ndarray | None = None, config: TrackerConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Track frame-0 `queries` [N, 2] through grayscale frames [T, H, W] (uint8).

    `fgmasks` [T, H, W] bool marks the foreground per frame: a point inside it is occluded (not visible).
    Returns positions [T, N, 2] float32 (a predicted position where not visible) and visibility [T, N] bool.

    Each frame is matched against frame 0 directly, so errors do not accumulate and a point hidden for a while is
    found again: frame t is warped into frame 0's coordinates by the coarse homography of the scene's dominant
    motion, Lucas-Kanade finds the residual displacement of each query (parallax, independent motion, the
    homography's own error) with a forward-backward check, and the result is mapped back into frame t.
    """
    config = config or TrackerConfig()
    gray = np.asarray(gray)
    if gray.ndim != 3 or gray.dtype != np.uint8:
        raise ValueError(f"gray frames must be uint8 [T, H, W], got {gray.dtype} {gray.shape}")
    queries = np.asarray(queries, np.float32).reshape(-1, 2)
    frames, height, width = gray.shape
    size = (width, height)
    if fgmasks is not None and fgmasks.shape != gray.shape:
        raise ValueError(f"fgmasks must match the frames' shape {gray.shape}, got {fgmasks.shape}")
    n = len(queries)
    positions = np.zeros((frames, n, 2), np.float32)
    visible = np.zeros((frames, n), bool)
    positions[0] = queries
    visible[0] = _inside(queries, size, config.border) & ~points_in_mask(
        queries, None if fgmasks is None else fgmasks[0]
    )
    if n == 0:
        return positions, visible
    current = np.eye(3)
    # Per frame, what the re-acquisition pass needs: each query's appearance in frame-0 coordinates, and whether
    # the scene's motion puts it inside the frame and outside the foreground (a person is never the background).
    descriptors = np.zeros((frames, n, len(_DESCRIPTOR_OFFSETS)), np.float32)
    descriptors[0] = _descriptors(gray[0], queries, config.patch)
    usable = np.zeros((frames, n), bool)
    usable[0] = visible[0]
    scene = np.tile(np.eye(3), (frames, 1, 1))  # frame 0 -> t homography of the scene's dominant motion
    for t in range(1, frames):
        mask_prev = None if fgmasks is None else fgmasks[t - 1]
        mask_t = None if fgmasks is None else fgmasks[t]
        step = _step_homography(gray[t - 1], gray[t], positions[t - 1], mask_prev, mask_t, config)
        if step is None:  # the scene's motion is lost: carry the last positions, nothing is visible
            positions[t] = positions[t - 1]
            scene[t] = current
            continue
        h = step @ current
        for _ in range(config.match_passes):  # match, then re-fit the homography to the matches (no drift)
            found, ok, warped = _match_frame0(gray[0], gray[t], h, queries, config)
            mapped = _apply(h, found)
            ok &= _inside(mapped, size, config.border)
            if config.occlusion_from_mask:
                ok &= ~points_in_mask(mapped, mask_t)
            refit = _frame_homography(queries[ok], mapped[ok])
            if refit is None:
                break
            h = refit
        current = scene[t] = h
        positions[t] = mapped
        visible[t] = ok
        predicted = _apply(h, queries)
        usable[t] = _inside(predicted, size, config.border) & ~points_in_mask(predicted, mask_t)
        descriptors[t] = _descriptors(warped, queries, config.patch)
    if frames > 1:
        # A query that cannot be followed into any later frame is on something nearer than the background at frame
        # 0 (a layer moving with parallax, an independently moving object), or was a poor match: frame 0 does not
        # show its background point. Where that point is revealed later it is found again from its own appearance.
        # (Queries whose matches drift from the scene's motion were tried as candidates too: on this corpus most of
        # them are background points next to a moving person, and re-acquiring them cost more than it gained.)
        candidates = np.flatnonzero(visible[0] & ~visible[1:].any(axis=0))
        if len(candidates):
            found_again = _reacquire(descriptors, usable, candidates, config)
            visible[:, candidates] = found_again
            # Their positions are where the scene's motion takes the background point, not where Lucas-Kanade
            # followed the nearer thing.
            for t in range(1, frames):
                positions[t, candidates] = _apply(scene[t], queries[candidates])
    return positions, visible


def track_clip(rgb: np.ndarray, fgmasks: np.ndarray | None, config: TrackerConfig | None = None) -> Tracks:
    """Grid queries outside frame 0's foreground, tracked through RGB frames [T, H, W, 3]."""
    config = config or TrackerConfig()
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])
    size = (gray.shape[2], gray.shape[1])
    queries, index = grid_queries(size, config.grid_step, None if fgmasks is None else fgmasks[0])
    positions, visible = track_points(gray, queries, fgmasks, config)
    return Tracks(queries, index, positions, visible)
