"""A synthetic person: body shape, appearance, placement on screen and motion, drawn frame by frame."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from curation.person import wholebody as wb
from curation.synthetic.body import BodyShape, Skeleton3D, forward_kinematics, sample_body_shape
from curation.synthetic.motions import animate
from curation.synthetic.paint import Material, paint_capsule, paint_ellipse, paint_polygon

SKIN_TONES = ((255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (92, 58, 34))
FACE_INDICES = np.r_[wb.INDEX["nose"], wb.INDEX["left_eye"], wb.INDEX["right_eye"], np.arange(23, 91)]
FACING_COS = 0.3  # face landmarks count as seen when the face turns less than ~72 degrees away


def _random_colour(rng: np.random.Generator, saturation: tuple[float, float] = (0.35, 0.95)) -> tuple[float, ...]:
    hsv = np.uint8([[[rng.integers(0, 180), int(255 * rng.uniform(*saturation)), int(255 * rng.uniform(0.35, 0.95))]]])
    return tuple(float(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


@dataclass(frozen=True)
class Appearance:
    skin: Material
    hair: Material
    shirt: Material
    sleeve: Material  # the forearm: bare skin or sleeve
    pants: Material
    shoes: Material


def sample_appearance(rng: np.random.Generator) -> Appearance:
    skin = Material(SKIN_TONES[rng.integers(len(SKIN_TONES))])
    shirt_pattern = rng.uniform(6, 16) if rng.random() < 0.6 else 0.0
    shirt = Material(_random_colour(rng), shirt_pattern, rng.uniform(0.1, 0.25), rng.uniform(0, np.pi))
    pants = Material(_random_colour(rng, (0.2, 0.7)), rng.uniform(8, 20) if rng.random() < 0.3 else 0.0, 0.15)
    return Appearance(
        skin=skin,
        hair=Material(_random_colour(rng, (0.1, 0.6))),
        shirt=shirt,
        sleeve=shirt if rng.random() < 0.5 else skin,
        pants=pants,
        shoes=Material(_random_colour(rng, (0.0, 0.5))),
    )


@dataclass
class Person:
    """One figure in a clip: where it stands, how big it is, what it does."""

    shape: BodyShape
    appearance: Appearance
    motion: str
    centre_x: float  # screen x of the pelvis at rest (pixels)
    ground_y: float  # screen y of the soles at rest (pixels)
    scale: float  # pixels per body-height unit
    skeleton: Skeleton3D
    root: np.ndarray  # [T, 3]
    yaw: np.ndarray  # [T]

    @classmethod
    def sample(
        cls,
        rng: np.random.Generator,
        motion: str,
        times: np.ndarray,
        centre_x: float,
        ground_y: float,
        scale: float,
        heading: float | None = None,
    ) -> Person:
        """`heading` (radians) fixes the yaw and removes the motion's sideways drift: a walker walking towards the
        camera (0) or away from it (pi)."""
        shape = sample_body_shape(rng)
        pose = animate(motion, times, rng)
        if heading is not None:
            pose.yaw[:] = heading
            pose.root[:, 0] = 0.0
        return cls(
            shape,
            sample_appearance(rng),
            motion,
            centre_x,
            ground_y,
            scale,
            forward_kinematics(shape, pose),
            pose.root,
            pose.yaw,
        )

    def to_screen(self, points: np.ndarray, frame: int) -> np.ndarray:
        """Body-unit points [..., 3] at `frame` to screen pixels [..., 2] (orthographic)."""
        root = self.root[frame]
        x = self.centre_x + self.scale * (points[..., 0] + root[0])
        y = self.ground_y - self.scale * (points[..., 1] + root[1] + self.shape.pelvis_height)
        return np.stack([x, y], axis=-1)

    def keypoints(self, width: int, height: int) -> np.ndarray:
        """[T, 133, 3]: x, y (pixels), confidence 1 for modelled points inside the frame and seen, else 0."""
        frames = len(self.yaw)
        xy = np.stack([self.to_screen(self.skeleton.keypoints[t], t) for t in range(frames)])
        conf = np.broadcast_to(self.skeleton.modelled, xy.shape[:2]).astype(np.float32).copy()
        inside = (xy[..., 0] >= 0) & (xy[..., 0] <= width - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= height - 1)
        conf *= inside
        facing = np.cos(self.yaw) > FACING_COS
        conf[:, FACE_INDICES] *= facing[:, None]
        return np.concatenate([xy, conf[..., None]], axis=-1).astype(np.float32)

    def draw(self, frame: int, canvas: np.ndarray, mask: np.ndarray) -> None:
        """Paint this person at `frame`, far parts first, into `canvas` and its coverage into `mask`."""
        kp3 = self.skeleton.keypoints[frame]
        joints = {name: value[frame] for name, value in self.skeleton.joints.items()}
        s, a, px = self.shape, self.appearance, self.scale
        i = wb.INDEX
        forward = np.array([np.sin(self.yaw[frame]), 0.0, np.cos(self.yaw[frame])])
        parts: list[tuple[float, object]] = []

        def capsule(p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, material: Material) -> None:
            parts.append(((p0[2] + p1[2]) / 2, ("capsule", p0, p1, r0 * px, r1 * px, material)))

        torso = np.stack([kp3[i["left_shoulder"]], kp3[i["right_shoulder"]], kp3[i["right_hip"]], kp3[i["left_hip"]]])
        box = np.concatenate([torso + s.torso_depth * forward, torso - s.torso_depth * forward])
        parts.append((float(torso[:, 2].mean()), ("polygon", box, a.shirt)))
        hips = np.stack([kp3[i["right_hip"]], kp3[i["left_hip"]]])
        pelvis_box = np.concatenate(
            [hips + s.torso_depth * forward, hips - s.torso_depth * forward, hips + [0, -0.06, 0]]
        )
        parts.append((float(hips[:, 2].mean()) + 1e-3, ("polygon", pelvis_box, a.pants)))
        capsule(joints["neck_base"], joints["head"], 0.03, 0.03, a.skin)
        for side in ("left", "right"):
            sh, el, wr = kp3[i[f"{side}_shoulder"]], kp3[i[f"{side}_elbow"]], kp3[i[f"{side}_wrist"]]
            hip, kn, an = kp3[i[f"{side}_hip"]], kp3[i[f"{side}_knee"]], kp3[i[f"{side}_ankle"]]
            capsule(sh, el, s.arm_radius, s.arm_radius * 0.9, a.shirt)
            capsule(el, wr, s.forearm_radius, s.forearm_radius * 0.8, a.sleeve)
            capsule(hip, kn, s.thigh_radius, s.thigh_radius * 0.8, a.pants)
            capsule(kn, an, s.shin_radius, s.shin_radius * 0.75, a.pants)
            toe = joints[f"{side[0]}_toe"]
            capsule(joints[f"{side[0]}_heel"], toe, s.foot * 0.2, s.foot * 0.22, a.shoes)
            hand = kp3[wb.LEFT_HAND if side == "left" else wb.RIGHT_HAND]
            palm = hand[[0, 1, 5, 9, 13, 17]]
            parts.append((float(palm[:, 2].mean()), ("polygon", palm, a.skin)))
            for first in (1, 5, 9, 13, 17):
                capsule(hand[first], hand[first + 3], s.hand * 0.07, s.hand * 0.06, a.skin)
        parts.append((float(joints["head"][2]), ("head",)))

        for _, part in sorted(parts, key=lambda item: item[0]):
            kind = part[0]
            if kind == "capsule":
                _, p0, p1, r0, r1, material = part
                paint_capsule(canvas, mask, self.to_screen(p0, frame), self.to_screen(p1, frame), r0, r1, material)
            elif kind == "polygon":
                _, points, material = part
                paint_polygon(canvas, mask, self.to_screen(points, frame), material)
            else:
                self._draw_head(frame, canvas, mask)

    def _draw_head(self, frame: int, canvas: np.ndarray, mask: np.ndarray) -> None:
        a, r = self.appearance, self.shape.head_radius * self.scale
        centre = self.to_screen(self.skeleton.joints["head"][frame], frame)
        facing = float(np.cos(self.yaw[frame]))
        paint_ellipse(canvas, mask, centre, (r, 1.15 * r), 0.0, a.skin if facing > -0.2 else a.hair)
        paint_ellipse(canvas, mask, centre + [0, -0.45 * r], (0.92 * r, 0.65 * r), 0.0, a.hair)
        if facing > FACING_COS:
            i = wb.INDEX
            kp3 = self.skeleton.keypoints[frame]
            for eye in ("left_eye", "right_eye"):
                paint_ellipse(
                    canvas,
                    mask,
                    self.to_screen(kp3[i[eye]], frame),
                    (0.14 * r, 0.09 * r),
                    0.0,
                    Material((30.0, 25.0, 20.0)),
                )
            mouth = self.to_screen(kp3[23 + 48 : 23 + 60], frame)
            paint_polygon(canvas, mask, mouth, Material((150.0, 60.0, 60.0)))
