"""The foreground (person) mask on the CPU, from pose: limb capsules, a torso polygon and a head disc per person,
refined with a colour cue, then dilated for masking the background tracks.

Sizes scale with each person's apparent height (estimated from the keypoints), so the same settings work for a
person far away and close up. The colour refinement adds pixels next to the pose mask whose colour matches the
person's own colours far better than the nearby background's (loose clothing, hair); it never removes pose pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from curation.person import wholebody as wb


@dataclass(frozen=True)
class ForegroundConfig:
    # "pose": the pose backend's segmentation where it gives one (mediapipe), else this module's mask from keypoints;
    # "sam2": curation.backends.sam2_masks
    backend: str = "pose"
    confidence: float = 0.3  # keypoints below this confidence are ignored
    limb_radius: float = 0.045  # capsule radius, as a fraction of the person's height
    head_radius: float = 0.09  # head disc radius about the face keypoints' centre, fraction of height
    hand_radius: float = 0.035
    colour_refine: bool = True
    refine_band: float = 0.05  # how far beyond the pose mask the colour cue may extend it, fraction of height
    dilation: float = 0.02  # dilation of the final mask for track masking, fraction of height (at least 3 px)

    def __post_init__(self) -> None:
        for name in ("limb_radius", "head_radius", "hand_radius", "refine_band", "dilation"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")
        if not 0 <= self.confidence <= 1:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


TORSO = (wb.INDEX["left_shoulder"], wb.INDEX["right_shoulder"], wb.INDEX["right_hip"], wb.INDEX["left_hip"])
HEAD = (wb.INDEX["nose"], wb.INDEX["left_eye"], wb.INDEX["right_eye"], wb.INDEX["left_ear"], wb.INDEX["right_ear"])


def person_height(keypoints: np.ndarray, confidence: float) -> float:
    """Apparent height in pixels of one person [133, 3]: from the body's extent, or its segment lengths when the
    body is cut by the frame (the torso is ~0.3 and the leg ~0.5 of a person's height)."""
    ok = keypoints[:, 2] >= confidence
    if ok.sum() < 2:
        return 0.0
    body = keypoints[wb.BODY][ok[wb.BODY]]
    extent = float(np.ptp(body[:, 1])) * 1.15 if len(body) >= 2 else 0.0
    estimates = [extent]
    i = wb.INDEX
    for a, b, fraction in (
        ("left_shoulder", "left_hip", 0.3),
        ("right_shoulder", "right_hip", 0.3),
        ("left_hip", "left_ankle", 0.5),
        ("right_hip", "right_ankle", 0.5),
    ):
        if ok[i[a]] and ok[i[b]]:
            estimates.append(float(np.linalg.norm(keypoints[i[a], :2] - keypoints[i[b], :2])) / fraction)
    return max(estimates)


def pose_mask(keypoints: np.ndarray, size: tuple[int, int], config: ForegroundConfig | None = None) -> np.ndarray:
    """[H, W] bool mask of all persons of one frame, keypoints [P, 133, 3]."""
    config = config or ForegroundConfig()
    width, height = size
    mask = np.zeros((height, width), np.uint8)
    for person in np.asarray(keypoints, np.float64):
        scale = person_height(person, config.confidence)
        if scale <= 0:
            continue
        ok = person[:, 2] >= config.confidence
        xy = person[:, :2]
        # Integer centres once per person, as Python ints: OpenCV's drawing calls are cheap, and converting NumPy
        # scalars one by one cost as much as the drawing.
        points = [tuple(p) for p in np.rint(xy).astype(int).tolist()]
        usable = ok.tolist()
        radius = max(2.0, config.limb_radius * scale)
        limb, thickness = max(1, round(radius)), round(2 * radius)
        hand = max(1, round(max(2.0, config.hand_radius * scale)))
        for a, b in wb.BODY_LIMBS:
            if usable[a] and usable[b]:
                cv2.line(mask, points[a], points[b], 1, thickness=thickness, lineType=cv2.LINE_8)
                cv2.circle(mask, points[a], limb, 1, -1)
                cv2.circle(mask, points[b], limb, 1, -1)
        torso = [k for k in TORSO if usable[k]]
        if len(torso) >= 3:
            cv2.fillPoly(mask, [np.round(xy[torso]).astype(np.int32)], 1)
        head = [k for k in (*HEAD, *range(wb.FACE.start, wb.FACE.stop)) if usable[k]]
        if head:
            centre = tuple(np.rint(xy[head].mean(axis=0)).astype(int).tolist())
            cv2.circle(mask, centre, max(1, round(config.head_radius * scale)), 1, -1)
        for k in (*range(wb.LEFT_HAND.start, wb.RIGHT_HAND.stop), *range(wb.FEET.start, wb.FEET.stop)):
            if usable[k]:
                cv2.circle(mask, points[k], hand if k >= wb.LEFT_HAND.start else limb, 1, -1)
    return mask.astype(bool)


def _box_around(mask: np.ndarray, pad: int) -> tuple[slice, slice] | None:
    """The bounding box of `mask`, `pad` pixels larger on every side and clipped to the frame (None when empty)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    height, width = mask.shape
    return (
        slice(max(0, rows[0] - pad), min(height, rows[-1] + pad + 1)),
        slice(max(0, cols[0] - pad), min(width, cols[-1] + pad + 1)),
    )


def _distance(mask: np.ndarray) -> np.ndarray:
    # OpenCV's 5x5 chamfer distance: within a few percent of Euclidean, at less than half the exact one's cost.
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)


def dilate_disc(mask: np.ndarray, radius: float) -> np.ndarray:
    """`mask` dilated by a disc of `radius` pixels, computed only around the mask's bounding box.

    A distance transform thresholds to any radius in linear time, where a large elliptic kernel costs its area
    per pixel; the crop keeps it to the part of the frame the person covers."""
    box = _box_around(mask, int(np.ceil(radius)) + 1)
    out = np.zeros_like(mask)
    if box is not None:
        out[box] = _distance(mask[box]) <= radius
    return out


def refine_with_colour(rgb: np.ndarray, mask: np.ndarray, band_px: int) -> np.ndarray:
    """Grow `mask` into a band of `band_px` where pixels' colours are far likelier under the mask's colour
    histogram than under the surrounding ring's (a small Bayes classifier on a 16^3 RGB histogram).

    Everything happens inside the mask's bounding box grown by the ring, which holds every pixel involved."""
    box = _box_around(mask, 2 * band_px + 2) if band_px >= 1 else None
    if box is None:
        return mask
    out = mask.copy()
    out[box] = _refine_crop(rgb[box], mask[box], band_px)
    return out


def _refine_crop(rgb: np.ndarray, mask: np.ndarray, band_px: int) -> np.ndarray:
    distance = _distance(mask)
    grown = distance <= band_px
    ring = (distance <= 2 * band_px) & ~grown  # `grown` dilated by the band again, minus itself
    core = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if not ring.any() or not core.any():
        return mask
    bins = (rgb // 16).astype(np.int32)
    codes = (bins[..., 0] * 16 + bins[..., 1]) * 16 + bins[..., 2]
    fg_hist = np.bincount(codes[core], minlength=4096) + 0.5
    bg_hist = np.bincount(codes[ring], minlength=4096) + 0.5
    ratio = (fg_hist / fg_hist.sum()) / (bg_hist / bg_hist.sum())
    band = grown & ~mask
    likely = np.zeros_like(mask)
    likely[band] = ratio[codes[band]] > 4.0
    # Only pixels connected to the pose mask count (a matching colour elsewhere in the background does not).
    labels_count, labels = cv2.connectedComponents((likely | mask).astype(np.uint8))
    if labels_count <= 1:
        return mask
    touching = np.zeros(labels_count, bool)
    touching[labels[mask]] = True
    touching[0] = False
    return touching[labels]


def dilate_by_height(masks: np.ndarray, keypoints: np.ndarray, config: ForegroundConfig | None = None) -> np.ndarray:
    """Masks [T, H, W] dilated by `config.dilation` of the largest person's height in each frame (at least 3 px), as
    `foreground_masks` dilates its own: for masks from another source (SAM2)."""
    config = config or ForegroundConfig()
    dilated = np.zeros_like(masks, dtype=bool)
    for t in range(len(masks)):
        scale = max((person_height(p, config.confidence) for p in keypoints[t]), default=0.0)
        radius = max(3, int(np.rint(config.dilation * scale)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        dilated[t] = cv2.dilate(masks[t].astype(np.uint8), kernel).astype(bool)
    return dilated


def foreground_masks(
    rgb: np.ndarray, keypoints: np.ndarray, config: ForegroundConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame foreground masks of a clip: (mask [T, H, W] bool, dilated mask [T, H, W] bool).

    `rgb` is [T, H, W, 3] uint8 and `keypoints` [T, P, 133, 3] in clip pixels.
    """
    config = config or ForegroundConfig()
    frames, height, width = rgb.shape[:3]
    if keypoints.ndim != 4 or keypoints.shape[0] != frames or keypoints.shape[2:] != (wb.NUM_KEYPOINTS, 3):
        raise ValueError(f"keypoints must be [{frames}, P, 133, 3], got {keypoints.shape}")
    masks = np.zeros((frames, height, width), bool)
    dilated = np.zeros_like(masks)
    for t in range(frames):
        scales = [person_height(p, config.confidence) for p in keypoints[t]]
        scale = max(scales, default=0.0)
        mask = pose_mask(keypoints[t], (width, height), config)
        if config.colour_refine and scale > 0:
            mask = refine_with_colour(rgb[t], mask, int(np.rint(config.refine_band * scale)))
        masks[t] = mask
        radius = max(3, int(np.rint(config.dilation * scale)))
        dilated[t] = dilate_disc(mask, radius)
    return masks, dilated
