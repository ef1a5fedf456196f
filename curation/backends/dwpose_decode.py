"""The pre- and post-processing of DWPose's two ONNX models, as plain numpy functions (tested on constructed outputs
whose answer is known).

Detector (YOLOX): the frame is letterboxed into the square input (scaled by `ratio`, padded with grey 114 at the
right and bottom), and the raw output [A, 5 + classes] holds, per anchor of the stride-8/16/32 grids, the box centre
offset and log size in grid units, the objectness and the class scores.

Pose (DWPose, an RTMPose-style top-down model): each person's box, enlarged by 1.25 and widened to the input's aspect
ratio, is warped into the input; the outputs are SimCC distributions `simcc_x` [N, K, W * split] and `simcc_y`
[N, K, H * split], whose argmax divided by the split ratio is the keypoint in input pixels, mapped back through the
inverse of the crop's affine map.
"""

from __future__ import annotations

import cv2
import numpy as np

YOLOX_STRIDES = (8, 16, 32)
PERSON_CLASS = 0


def letterbox(image: np.ndarray, size: tuple[int, int], pad_value: int = 114) -> tuple[np.ndarray, float]:
    """`image` [H, W, 3] scaled to fit `size` (height, width), top-left aligned on a grey canvas: (canvas, ratio)."""
    height, width = size
    ratio = min(height / image.shape[0], width / image.shape[1])
    resized = cv2.resize(
        image, (int(image.shape[1] * ratio), int(image.shape[0] * ratio)), interpolation=cv2.INTER_LINEAR
    )
    canvas = np.full((height, width, 3), pad_value, np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    return canvas, ratio


def yolox_grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Anchor cells (x, y) [A, 2] and their strides [A, 1] of a YOLOX input of `size` (height, width)."""
    cells, strides = [], []
    for stride in YOLOX_STRIDES:
        ys, xs = np.meshgrid(np.arange(size[0] // stride), np.arange(size[1] // stride), indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full((xs.size, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode_yolox(
    raw: np.ndarray, size: tuple[int, int], ratio: float, score_threshold: float = 0.3, nms_threshold: float = 0.45
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes (x0, y0, x1, y1) in frame pixels [K, 4] and scores [K], best first, from one image's raw
    output [A, 5 + classes]."""
    cells, strides = yolox_grid(size)
    if raw.shape[0] != len(cells):
        raise ValueError(f"detector output has {raw.shape[0]} anchors, a {size} input has {len(cells)}")
    centre = (raw[:, :2] + cells) * strides
    extent = np.exp(np.minimum(raw[:, 2:4], 20.0)) * strides  # clamp: random weights must not overflow
    score = raw[:, 4] * raw[:, 5 + PERSON_CLASS]
    # A person counts only where the person class is the best class (as a multi-class NMS would decide).
    best = raw[:, 5:].argmax(axis=1) == PERSON_CLASS
    keep = np.flatnonzero((score > score_threshold) & best)
    if len(keep) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    boxes = np.concatenate([centre[keep] - extent[keep] / 2, centre[keep] + extent[keep] / 2], axis=1) / ratio
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    chosen = cv2.dnn.NMSBoxes(xywh.tolist(), score[keep].tolist(), score_threshold, nms_threshold)
    chosen = np.asarray(chosen, int).reshape(-1)
    chosen = chosen[np.argsort(-score[keep][chosen], kind="stable")]
    return boxes[chosen].astype(np.float32), score[keep][chosen].astype(np.float32)


def box_center_scale(box: np.ndarray, aspect: float, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """Centre (x, y) and size (w, h) of the crop of a box: enlarged by `padding`, widened to width/height `aspect`."""
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    w, h = (x1 - x0) * padding, (y1 - y0) * padding
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return centre, np.array([w, h])


def crop_matrix(centre: np.ndarray, scale: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The 2x3 affine map from frame pixels to model-input pixels (input `size` is height, width)."""
    sx = size[1] / scale[0]
    sy = size[0] / scale[1]
    return np.array([[sx, 0.0, size[1] / 2 - sx * centre[0]], [0.0, sy, size[0] / 2 - sy * centre[1]]])


def crop(image: np.ndarray, centre: np.ndarray, scale: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.warpAffine(image, crop_matrix(centre, scale, size), (size[1], size[0]), flags=cv2.INTER_LINEAR)


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in input pixels [N, K, 2] and confidences [N, K] from SimCC outputs [N, K, Wx] and [N, K, Wy].

    The confidence is the smaller of the two peaks (both axes must agree), clipped to [0, 1]: DWPose's peaks are
    not probabilities, but its consumers threshold them at 0.3 on this scale.
    """
    x = np.argmax(simcc_x, axis=-1)
    y = np.argmax(simcc_y, axis=-1)
    locations = np.stack([x, y], axis=-1).astype(np.float32) / split_ratio
    confidence = np.minimum(simcc_x.max(axis=-1), simcc_y.max(axis=-1))
    return locations, np.clip(confidence, 0.0, 1.0).astype(np.float32)


def to_frame(locations: np.ndarray, centre: np.ndarray, scale: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Input-pixel keypoints [K, 2] back to frame pixels through the inverse of `crop_matrix`."""
    matrix = crop_matrix(centre, scale, size)
    return ((locations - matrix[:, 2]) / np.array([matrix[0, 0], matrix[1, 1]])).astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a [M, 4] and b [N, 4]: [M, N]."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
