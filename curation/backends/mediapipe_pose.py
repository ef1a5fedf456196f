"""Pose and person masks on the CPU with nothing to download: MediaPipe 0.10.21's solutions, whose wheel carries
their models (BlazePose full with its segmentation, the hand landmarker, the face mesh; Apache-2.0).

Per frame and person: BlazePose gives 33 landmarks and a person mask; the hand model (lite) runs on a crop around
the person and its hands are given to the nearest wrist; the face mesh runs on a crop around the head. The result is
mapped onto COCO-WholeBody's 133 points (`curation.person.mediapipe_layout`).

More than one person: a BlazePose graph follows one person (it detects once, then tracks its region from frame to
frame). Graph k runs on the frame with the persons of graphs 0..k-1 painted out (their boxes filled with grey), so it
detects someone else; each graph keeps following its own person, which is what gives a person the same slot across
frames. Limits: at most `max_persons` persons; a person largely inside another's box is painted out with them and
not found; when two persons cross, the graphs may swap them; each extra graph costs a detector run per frame while it
looks for someone, and a full landmark run per frame once it follows someone.

Gating: a person counts only when at least `min_keypoints` body points are visible (BlazePose's visibility) inside
the frame and most of them lie on its own mask; the mask counts only where a person counts, and only within that
person's box (a mask with no person is not a person). Graphs are reset at the start of every clip, so a clip's
result does not depend on which clip a worker processed before it.

The graphs themselves (settings, quiet import and construction, the per-clip reset) are in
`curation.backends.mediapipe_graphs`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from curation.backends.mediapipe_graphs import (
    PAINT_GREY,
    MediaPipeSettings,
    PersonGraphs,
    import_mediapipe,
    mediapipe_available,
    quiet_stderr,
)
from curation.person.mediapipe_layout import (
    BLAZEPOSE_TO_WHOLEBODY,
    HAND_LANDMARKS,
    POSE_LANDMARKS,
    assign_hands,
    wholebody_from_landmarks,
)
from curation.person.pose_sidecar import sort_by_area

#: BlazePose landmarks that count as the body for gating (those mapped onto COCO's 17 body points).
BODY_LANDMARKS = tuple(k for k, v in BLAZEPOSE_TO_WHOLEBODY.items() if v < 17)
#: BlazePose's face landmarks (nose, eyes, ears, mouth), for the head crop.
HEAD_LANDMARKS = tuple(range(11))


def _landmarks(landmark_list: Any, width: int, height: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """[N, 3] (x, y in frame pixels, visibility) from a mediapipe landmark list in coordinates normalised to an
    image of `width` x `height` placed at `offset` in the frame."""
    points = np.array([(p.x, p.y, p.visibility) for p in landmark_list.landmark], np.float32)
    points[:, 0] = points[:, 0] * width + offset[0]
    points[:, 1] = points[:, 1] * height + offset[1]
    return points


def _box(points: np.ndarray, pad: float, size: tuple[int, int], square: bool = False) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around points [N, 2], grown by `pad` of its larger side on each side, clipped to the frame."""
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    side = max(x1 - x0, y1 - y0, 8.0)
    if square:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        x0, x1, y0, y1 = cx - side / 2, cx + side / 2, cy - side / 2, cy + side / 2
    grow = pad * side
    width, height = size
    return (
        int(max(0, np.floor(x0 - grow))),
        int(max(0, np.floor(y0 - grow))),
        int(min(width, np.ceil(x1 + grow))),
        int(min(height, np.ceil(y1 + grow))),
    )


@dataclass
class PersonFrame:
    """One person found in one frame: keypoints [133, 3] in frame pixels, its mask [H, W] and its box."""

    keypoints: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]


class MediaPipePose:
    """The mediapipe backend: `estimate_clip(rgb)` gives keypoints [T, P, 133, 3] and the persons' mask [T, H, W]."""

    name = "mediapipe"

    def __init__(self, settings: MediaPipeSettings | None = None) -> None:
        self.settings = settings or MediaPipeSettings()
        self._mp = import_mediapipe()
        with quiet_stderr():
            self.persons = [PersonGraphs(self._mp, self.settings) for _ in range(self.settings.max_persons)]

    @property
    def version(self) -> str:
        parts = ["pose-full+segmentation", *(["hands-lite"] if self.settings.hands else [])]
        parts += ["face-mesh"] if self.settings.face else []
        return f"mediapipe {self._mp.__version__} {'+'.join(parts)} x{self.settings.max_persons}"

    def close(self) -> None:
        for person in self.persons:
            person.close()

    def estimate(self, rgb: np.ndarray, source_frames: np.ndarray | None = None) -> np.ndarray:
        """Keypoints [T, P, 133, 3] of a clip (the `PoseEstimator` protocol)."""
        return self.estimate_clip(rgb)[0]

    def estimate_clip(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keypoints [T, P, 133, 3] float32 in clip pixels, persons sorted by area; mask [T, H, W] bool) of RGB
        frames [T, H, W, 3] uint8. P is the number of graphs that found someone in some frame (0 when none did)."""
        rgb = np.asarray(rgb)
        if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got {rgb.dtype} {rgb.shape}")
        frames, height, width = rgb.shape[:3]
        keypoints = np.zeros((frames, len(self.persons), 133, 3), np.float32)
        masks = np.zeros((frames, height, width), bool)
        with quiet_stderr():
            for person in self.persons:
                person.reset()
            for t in range(frames):
                for slot, found in enumerate(self.frame_persons(rgb[t], search=t % self.settings.search_every == 0)):
                    if found is not None:
                        keypoints[t, slot] = found.keypoints
                        masks[t] |= found.mask
            for person in self.persons:
                person.settle()
        seen = keypoints[..., 2].max(axis=(0, 2)) > 0
        return sort_by_area(keypoints[:, seen]), masks

    def frame_persons(self, rgb: np.ndarray, *, search: bool = True) -> list[PersonFrame | None]:
        """The person each graph follows in this frame (None where it found nobody who passes the gates). Graphs
        beyond the first that follow nobody look for someone only when `search` (a detector run per frame each
        would cost about as much as the first graph's landmarks)."""
        work = np.ascontiguousarray(rgb)
        painted = False
        found: list[PersonFrame | None] = []
        for index, person in enumerate(self.persons):
            if index > 0 and not person.following and (found[-1] is None or not search):
                found.append(None)  # nobody left to find, or not the frame to look: this graph follows nobody
                continue
            result = self._person(person, work, rgb)
            found.append(result)
            person.following = result is not None
            if result is not None and index + 1 < len(self.persons):
                if not painted:
                    work, painted = work.copy(), True
                x0, y0, x1, y1 = result.box
                work[y0:y1, x0:x1] = PAINT_GREY
        return found

    def _person(self, person: PersonGraphs, work: np.ndarray, rgb: np.ndarray) -> PersonFrame | None:
        settings = self.settings
        height, width = rgb.shape[:2]
        result = person.pose.process(work)
        if result.pose_landmarks is None:
            return None
        person.dirty.add("pose")
        pose = _landmarks(result.pose_landmarks, width, height)
        inside = (pose[:, 0] >= 0) & (pose[:, 0] < width) & (pose[:, 1] >= 0) & (pose[:, 1] < height)
        pose[~inside, 2] = 0.0  # off the frame: a guess, not a keypoint
        segmentation = result.segmentation_mask
        if segmentation is None:
            return None
        visible = [k for k in BODY_LANDMARKS if pose[k, 2] >= settings.min_visibility]
        if len(visible) < settings.min_keypoints:
            return None
        on_mask = _on_mask(segmentation, pose[visible, :2], settings.mask_threshold)
        if on_mask < 0.5:
            return None  # landmarks over a region the segmentation does not call a person
        confident = pose[pose[:, 2] >= settings.min_visibility, :2]
        box = _box(confident, 0.15, (width, height))
        mask = np.zeros((height, width), bool)
        x0, y0, x1, y1 = _box(confident, 0.3, (width, height))
        mask[y0:y1, x0:x1] = segmentation[y0:y1, x0:x1] > settings.mask_threshold
        face = self._face(person, rgb, pose) if person.face is not None else None
        left, right = self._hands(person, rgb, pose, box) if person.hands is not None else (None, None)
        keypoints = wholebody_from_landmarks(pose, face=face, left_hand=left, right_hand=right)
        return PersonFrame(keypoints, mask, box)

    def _hands(
        self, person: PersonGraphs, rgb: np.ndarray, pose: np.ndarray, box: tuple[int, int, int, int]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        x0, y0, x1, y1 = person.crops["hands"] = _steady(person.crops["hands"], box, rgb.shape)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None, None
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        result = person.hands.process(crop)
        if result.multi_hand_landmarks:
            person.dirty.add("hands")
        hands = []
        for landmarks, handedness in zip(
            result.multi_hand_landmarks or (), result.multi_handedness or (), strict=False
        ):
            hand = _landmarks(landmarks, x1 - x0, y1 - y0, (x0, y0))
            hand[:, 2] = handedness.classification[0].score  # the hand's presence score, for all its points
            hands.append(hand)
        size = float(np.linalg.norm(pose[11, :2] - pose[12, :2]))  # shoulder width: how far a hand may be
        return assign_hands(hands, pose, max_distance=max(size, 16.0))

    def _face(self, person: PersonGraphs, rgb: np.ndarray, pose: np.ndarray) -> np.ndarray | None:
        head = pose[list(HEAD_LANDMARKS)]
        head = head[head[:, 2] >= self.settings.min_visibility]
        if len(head) < 3:
            return None
        height, width = rgb.shape[:2]
        box = _box(head[:, :2], 0.8, (width, height), square=True)
        x0, y0, x1, y1 = person.crops["face"] = _steady(person.crops["face"], box, rgb.shape)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        result = person.face.process(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        if not result.multi_face_landmarks:
            return None
        person.dirty.add("face")
        face = _landmarks(result.multi_face_landmarks[0], x1 - x0, y1 - y0, (x0, y0))
        face[:, 2] = float(np.mean(head[:, 2]))  # the mesh has no per-point score: the head's visibility
        return face


def _steady(
    previous: tuple[int, int, int, int] | None, box: tuple[int, int, int, int], shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """The previous crop while `box` stays inside it and it is not much larger (at most 3x the area); otherwise
    `box` grown by 15% of its larger side on each side (room to move before the crop must change)."""
    x0, y0, x1, y1 = box
    if previous is not None:
        a0, b0, a1, b1 = previous
        inside = a0 <= x0 and b0 <= y0 and x1 <= a1 and y1 <= b1
        if inside and (a1 - a0) * (b1 - b0) <= 3 * max((x1 - x0) * (y1 - y0), 1):
            return previous
    grow = 0.15 * max(x1 - x0, y1 - y0)
    height, width = shape[:2]
    return (
        int(max(0, x0 - grow)),
        int(max(0, y0 - grow)),
        int(min(width, x1 + grow)),
        int(min(height, y1 + grow)),
    )


@functools.lru_cache(maxsize=2)
def shared_estimator(settings: MediaPipeSettings) -> MediaPipePose:
    """One estimator per settings per process: its graphs are built once (seconds), then reset for every clip."""
    return MediaPipePose(settings)


def _on_mask(segmentation: np.ndarray, points: np.ndarray, threshold: float) -> float:
    """Fraction of points whose 5x5 neighbourhood holds mask (landmarks sit on limbs' edges too)."""
    height, width = segmentation.shape
    hits = 0
    for x, y in points:
        xi, yi = round(float(x)), round(float(y))
        patch = segmentation[max(0, yi - 2) : min(height, yi + 3), max(0, xi - 2) : min(width, xi + 3)]
        hits += bool(patch.size and patch.max() > threshold)
    return hits / max(len(points), 1)


__all__ = [
    "HAND_LANDMARKS",
    "POSE_LANDMARKS",
    "MediaPipePose",
    "MediaPipeSettings",
    "PersonFrame",
    "import_mediapipe",
    "mediapipe_available",
    "quiet_stderr",
    "shared_estimator",
]
