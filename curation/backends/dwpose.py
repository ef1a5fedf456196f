"""DWPose whole-body keypoints: the YOLOX person detector and the DWPose model as ONNX files on ONNX Runtime.

Frames go through the detector in batches; every person box of those frames goes through the pose model in one
batch of crops. Persons are followed across frames by box overlap, so person p is the same person throughout a clip,
then ordered by area as the shard format wants. Output: float32 [T, P, 133, 3] in clip pixels (COCO-WholeBody).

The registry's `dwpose` package is never imported (on import it downloads and may switch off TLS checks); the
pre- and post-processing lives in `dwpose_decode`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curation.backends import dwpose_decode as dec
from curation.backends.onnx_session import OnnxModel
from curation.person import wholebody as wb
from curation.person.pose_sidecar import sort_by_area
from curation.weights import locate_weights, resolve_weights

# RTMPose-family normalisation (ImageNet mean and std on 0-255 values, in RGB order).
POSE_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
POSE_STD = np.array([58.395, 57.12, 57.375], np.float32)


@dataclass(frozen=True)
class DWPoseSettings:
    detector: str | None = None  # YOLOX ONNX file; None: yolox_l.onnx in the weights directory
    model: str | None = None  # DWPose ONNX file; None: dw-ll_ucoco_384.onnx in the weights directory
    weights_dir: str | None = None  # None: $BACKDROP_WEIGHTS or ~/.cache/backdrop/weights
    device: str = "auto"  # "auto" (CUDA provider when present), "cuda", "cpu"
    threads: int = 0  # ONNX Runtime intra-op threads (0: its default)
    batch_frames: int = 8  # frames per detector batch (and per pose batch of their crops)
    detector_size: tuple[int, int] = (640, 640)  # (height, width), used when the ONNX file's input is dynamic
    pose_size: tuple[int, int] = (384, 288)
    # YOLOX was trained on OpenCV's BGR frames without normalisation; the RTMPose-style model on RGB.
    detector_bgr: bool = True
    score_threshold: float = 0.3  # detector person score
    nms_threshold: float = 0.45
    max_persons: int = 4  # persons kept per clip (largest first)
    match_iou: float = 0.3  # box overlap that continues a person from the previous frame
    simcc_split_ratio: float = 2.0


def _resolve(path: str | None, registry_name: str, weights_dir: str | None, setting: str) -> Path:
    override = f"dwpose.{setting} (a file) or dwpose.weights_dir"
    return resolve_weights(registry_name, path, weights_dir=weights_dir, override=override)


class DWPoseEstimator:
    """A `PoseEstimator` on the two ONNX models; `estimate(rgb, source_frames)` gives [T, P, 133, 3]."""

    name = "dwpose"

    def __init__(self, settings: DWPoseSettings | None = None) -> None:
        self.settings = s = settings or DWPoseSettings()
        detector = _resolve(s.detector, "dwpose-detector", s.weights_dir, "detector")
        model = _resolve(s.model, "dwpose-wholebody", s.weights_dir, "model")
        self.detector = OnnxModel(detector, s.device, s.threads)
        self.pose = OnnxModel(model, s.device, s.threads)
        self.detector_size = self.detector.input_hw or tuple(s.detector_size)
        self.pose_size = self.pose.input_hw or tuple(s.pose_size)

    @property
    def version(self) -> str:
        import onnxruntime as ort

        return f"dwpose onnxruntime {ort.__version__} {self.pose.provider}"

    def detect(self, rgb: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Person boxes and scores of each frame [T, H, W, 3]."""
        s = self.settings
        images, ratios = [], []
        for frame in rgb:
            image, ratio = dec.letterbox(frame[..., ::-1] if s.detector_bgr else frame, self.detector_size)
            images.append(image.transpose(2, 0, 1))
            ratios.append(ratio)
        raw = self.detector.run(np.stack(images).astype(np.float32))[0]
        return [
            dec.decode_yolox(raw[i], self.detector_size, ratios[i], s.score_threshold, s.nms_threshold)
            for i in range(len(rgb))
        ]

    def keypoints(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> list[np.ndarray]:
        """Keypoints [K_t, 133, 3] of every box of every frame, from one batch of crops."""
        s = self.settings
        height, width = self.pose_size
        crops, places = [], []
        for t, frame_boxes in enumerate(boxes):
            for box in frame_boxes:
                centre, scale = dec.box_center_scale(box, width / height)
                crops.append(
                    ((dec.crop(rgb[t], centre, scale, self.pose_size) - POSE_MEAN) / POSE_STD).transpose(2, 0, 1)
                )
                places.append((t, centre, scale))
        out = [np.zeros((len(b), wb.NUM_KEYPOINTS, 3), np.float32) for b in boxes]
        if not crops:
            return out
        simcc_x, simcc_y = self.pose.run(np.stack(crops).astype(np.float32))[:2]
        locations, confidence = dec.decode_simcc(simcc_x, simcc_y, s.simcc_split_ratio)
        counters = [0] * len(boxes)
        for i, (t, centre, scale) in enumerate(places):
            person = out[t][counters[t]]
            person[:, :2] = dec.to_frame(locations[i], centre, scale, self.pose_size)
            person[:, 2] = confidence[i]
            counters[t] += 1
        return out

    def estimate(self, rgb: np.ndarray, source_frames: np.ndarray | None = None) -> np.ndarray:
        """Keypoints [T, P, 133, 3] of clip frames [T, H, W, 3] (uint8 RGB); `source_frames` is unused."""
        s = self.settings
        boxes: list[np.ndarray] = []
        people: list[np.ndarray] = []
        for start in range(0, len(rgb), s.batch_frames):
            chunk = rgb[start : start + s.batch_frames]
            detected = self.detect(chunk)
            chunk_boxes = [b for b, _ in detected]
            boxes.extend(chunk_boxes)
            people.extend(self.keypoints(chunk, chunk_boxes))
        return assemble(boxes, people, s.match_iou, s.max_persons)


def assemble(boxes: list[np.ndarray], people: list[np.ndarray], match_iou: float, max_persons: int) -> np.ndarray:
    """Per-frame detections into [T, P, 133, 3]: a person continues when its box overlaps the same slot's box in
    the last frame it was seen (greedy by IoU); persons are then sorted by area and the largest `max_persons` kept."""
    slots: list[np.ndarray] = []  # last box of each person
    assignment: list[list[int]] = []
    for frame_boxes in boxes:
        taken: list[int] = [-1] * len(frame_boxes)
        if slots and len(frame_boxes):
            overlap = dec.iou(frame_boxes, np.stack(slots))
            used: set[int] = set()
            for flat in np.argsort(-overlap, axis=None):
                d, p = np.unravel_index(flat, overlap.shape)
                if overlap[d, p] < match_iou:
                    break
                if taken[d] < 0 and p not in used:
                    taken[d] = int(p)
                    used.add(int(p))
        for d, box in enumerate(frame_boxes):
            if taken[d] < 0:
                taken[d] = len(slots)
                slots.append(box)
            slots[taken[d]] = box
        assignment.append(taken)
    result = np.zeros((len(boxes), len(slots), wb.NUM_KEYPOINTS, 3), np.float32)
    for t, taken in enumerate(assignment):
        for d, p in enumerate(taken):
            result[t, p] = people[t][d]
    return sort_by_area(result)[:, :max_persons]


def dwpose_available(settings: DWPoseSettings) -> list[str]:
    """The files DWPose needs that are missing (empty when it can run)."""
    return [
        os.fspath(p)
        for p in (
            locate_weights("dwpose-detector", settings.detector, weights_dir=settings.weights_dir),
            locate_weights("dwpose-wholebody", settings.model, weights_dir=settings.weights_dir),
        )
        if not p.is_file()
    ]
