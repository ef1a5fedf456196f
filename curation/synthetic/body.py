"""An articulated 3D stick-and-volume body: proportions, joint angles and forward kinematics.

Body frame: X is the person's left, Y is up, Z is the direction the person faces; the pelvis is the origin and
lengths are in units of body height. A limb segment's direction comes from two angles: abduction `a` (away from
the body's mid-line, sideways) and flexion `f` (forward): d = (side * sin a, -cos a * cos f, cos a * sin f),
so (0, 0) hangs straight down. Yaw turns the whole body about Y (0 faces the camera, which looks along -Z).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from curation.person import wholebody as wb

LIMBS: tuple[str, ...] = (
    "l_upper_arm", "l_forearm", "l_hand", "r_upper_arm", "r_forearm", "r_hand",
    "l_thigh", "l_shin", "r_thigh", "r_shin",
)  # fmt: skip


@dataclass(frozen=True)
class BodyShape:
    """Segment lengths and radii, in units of body height."""

    head_radius: float = 0.062
    neck: float = 0.045
    torso: float = 0.29
    torso_depth: float = 0.06
    shoulder_half: float = 0.12
    hip_half: float = 0.085
    upper_arm: float = 0.17
    forearm: float = 0.15
    hand: float = 0.085
    thigh: float = 0.245
    shin: float = 0.235
    ankle_height: float = 0.04
    foot: float = 0.11
    arm_radius: float = 0.03
    forearm_radius: float = 0.024
    thigh_radius: float = 0.048
    shin_radius: float = 0.034

    @property
    def pelvis_height(self) -> float:
        return self.thigh + self.shin + self.ankle_height


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """Varied proportions: every length and radius scaled by its own factor in a plausible range."""
    base = BodyShape()
    values = {}
    for f in fields(BodyShape):
        spread = 0.22 if f.name.endswith("radius") or f.name in ("shoulder_half", "hip_half", "torso_depth") else 0.1
        values[f.name] = getattr(base, f.name) * rng.uniform(1 - spread, 1 + spread)
    return BodyShape(**values)


@dataclass
class PoseSequence:
    """Per-frame pose parameters of one person over T frames."""

    root: np.ndarray  # [T, 3] pelvis offset (body units): x screen-right, y up, z towards the camera
    yaw: np.ndarray  # [T] radians
    lean: np.ndarray  # [T] radians, torso tilt forward
    limbs: dict[str, np.ndarray] = field(default_factory=dict)  # name -> [T, 2] (abduction, flexion) radians
    foot_pitch: np.ndarray | None = None  # [T, 2] (left, right) radians, toes down positive

    @classmethod
    def rest(cls, frames: int) -> PoseSequence:
        zeros = np.zeros(frames)
        limbs = {name: np.zeros((frames, 2)) for name in LIMBS}
        for arm in ("l_upper_arm", "r_upper_arm", "l_forearm", "r_forearm", "l_hand", "r_hand"):
            limbs[arm][:, 0] = np.radians(8.0)
        for arm in ("l_forearm", "r_forearm", "l_hand", "r_hand"):
            limbs[arm][:, 1] = np.radians(12.0)
        return cls(np.zeros((frames, 3)), zeros.copy(), zeros.copy(), limbs, np.zeros((frames, 2)))


def limb_direction(angles: np.ndarray, side: float) -> np.ndarray:
    """Unit directions [T, 3] from (abduction, flexion) angles [T, 2]; side is +1 for left limbs, -1 for right."""
    a, f = angles[:, 0], angles[:, 1]
    return np.stack([side * np.sin(a), -np.cos(a) * np.cos(f), np.cos(a) * np.sin(f)], axis=1)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _face_template() -> np.ndarray:
    """68 iBUG-style landmarks on the unit face disc (x right on screen when facing the camera, y up)."""
    jaw_angle = np.linspace(np.radians(200), np.radians(340), 17)
    jaw = np.stack([0.8 * np.cos(jaw_angle), 0.15 + 0.85 * np.sin(jaw_angle)], axis=1)
    brow_r = np.stack([np.linspace(-0.6, -0.15, 5), 0.42 + 0.06 * np.sin(np.linspace(0, np.pi, 5))], axis=1)
    brow_l = brow_r[::-1] * [-1, 1]
    bridge = np.stack([np.zeros(4), np.linspace(0.3, -0.05, 4)], axis=1)
    nostrils = np.stack([np.linspace(-0.15, 0.15, 5), -0.15 - 0.04 * np.sin(np.linspace(0, np.pi, 5))], axis=1)
    eye_angle = np.radians([180, 135, 45, 0, -45, -135])
    eye = np.stack([0.14 * np.cos(eye_angle), 0.06 * np.sin(eye_angle)], axis=1)
    eyes = np.concatenate([eye + [-0.33, 0.25], eye + [0.33, 0.25]])
    outer_angle = np.radians(np.linspace(180, -180, 12, endpoint=False))
    inner_angle = np.radians(np.linspace(180, -180, 8, endpoint=False))
    mouth = np.concatenate(
        [
            np.stack([0.3 * np.cos(outer_angle), -0.45 + 0.1 * np.sin(outer_angle)], axis=1),
            np.stack([0.2 * np.cos(inner_angle), -0.45 + 0.04 * np.sin(inner_angle)], axis=1),
        ]
    )
    return np.concatenate([jaw, brow_r, brow_l, bridge, nostrils, eyes, mouth])


FACE_TEMPLATE = _face_template()
assert FACE_TEMPLATE.shape == (68, 2)


@dataclass
class Skeleton3D:
    """Forward-kinematics result for T frames, in the posed and yawed body frame (body units)."""

    keypoints: np.ndarray  # [T, 133, 3]
    modelled: np.ndarray  # [133] bool: the keypoints this body defines
    joints: dict[str, np.ndarray]  # extra named points [T, 3] used for drawing


def forward_kinematics(shape: BodyShape, pose: PoseSequence) -> Skeleton3D:
    """Place every modelled COCO-WholeBody keypoint (body, feet, face, hands) for each frame."""
    frames = len(pose.yaw)
    kp = np.zeros((frames, wb.NUM_KEYPOINTS, 3))
    modelled = np.zeros(wb.NUM_KEYPOINTS, dtype=bool)
    idx = wb.INDEX
    ex, ey, ez = np.eye(3)

    def put(name: str, value: np.ndarray) -> None:
        kp[:, idx[name]] = value
        modelled[idx[name]] = True

    spine = np.stack([np.zeros(frames), np.cos(pose.lean), np.sin(pose.lean)], axis=1)
    pelvis = np.zeros((frames, 3))
    neck_base = pelvis + shape.torso * spine
    head = neck_base + (shape.neck + shape.head_radius) * spine
    joints: dict[str, np.ndarray] = {"pelvis": pelvis, "neck_base": neck_base, "head": head}

    for side_name, side in (("left", 1.0), ("right", -1.0)):
        s = side_name[0]
        shoulder = neck_base + side * shape.shoulder_half * ex - 0.02 * spine
        elbow = shoulder + shape.upper_arm * limb_direction(pose.limbs[f"{s}_upper_arm"], side)
        wrist = elbow + shape.forearm * limb_direction(pose.limbs[f"{s}_forearm"], side)
        hip = pelvis + side * shape.hip_half * ex
        knee = hip + shape.thigh * limb_direction(pose.limbs[f"{s}_thigh"], side)
        ankle = knee + shape.shin * limb_direction(pose.limbs[f"{s}_shin"], side)
        put(f"{side_name}_shoulder", shoulder)
        put(f"{side_name}_elbow", elbow)
        put(f"{side_name}_wrist", wrist)
        put(f"{side_name}_hip", hip)
        put(f"{side_name}_knee", knee)
        put(f"{side_name}_ankle", ankle)

        pitch = pose.foot_pitch[:, 0 if side > 0 else 1] if pose.foot_pitch is not None else np.zeros(frames)
        sole = ankle - shape.ankle_height * ey
        toe = sole + shape.foot * np.stack([np.zeros(frames), -np.sin(pitch), np.cos(pitch)], axis=1)
        medial = -side * ex * shape.foot * 0.16
        put(f"{side_name}_heel", sole - 0.03 * ez)
        put(f"{side_name}_big_toe", toe + medial)
        put(f"{side_name}_small_toe", toe - medial)
        joints[f"{s}_toe"] = toe
        joints[f"{s}_heel"] = sole - 0.03 * ez

        hand_dir = limb_direction(pose.limbs[f"{s}_hand"], side)
        lateral = _unit(np.cross(hand_dir, ez) + 1e-6 * ex) * side
        width = shape.hand * 0.2
        prefix = f"{side_name}_hand_"
        put(prefix + "wrist", wrist)
        thumb_dir = _unit(0.7 * hand_dir + 0.7 * lateral)
        thumb_base = wrist + 0.15 * shape.hand * hand_dir + 0.6 * width * lateral
        for j, frac in enumerate((0.0, 0.25, 0.5, 0.75), start=1):
            put(f"{prefix}thumb_{j}", thumb_base + frac * 0.9 * shape.hand * thumb_dir)
        for k, finger in enumerate(("index", "middle", "ring", "pinky")):
            offset = (1.5 - k) * width * 0.8
            base = wrist + 0.5 * shape.hand * hand_dir + offset * lateral
            finger_dir = _unit(hand_dir + (0.5 - k / 3) * 0.25 * lateral)
            length = shape.hand * (0.5 if finger != "pinky" else 0.38)
            for j, frac in enumerate((0.0, 0.4, 0.7, 1.0), start=1):
                put(f"{prefix}{finger}_{j}", base + frac * length * finger_dir)
        joints[f"{s}_palm"] = wrist + 0.5 * shape.hand * hand_dir

    r = shape.head_radius
    put("nose", head + r * np.array([0.0, -0.1, 0.95]))
    put("left_eye", head + r * np.array([0.33, 0.25, 0.85]))
    put("right_eye", head + r * np.array([-0.33, 0.25, 0.85]))
    put("left_ear", head + r * np.array([0.92, 0.05, 0.0]))
    put("right_ear", head + r * np.array([-0.92, 0.05, 0.0]))
    # The face template's x is screen-right for a person facing the camera, i.e. the person's right (-X).
    face_xy = FACE_TEMPLATE * 0.9
    face_z = np.sqrt(np.clip(1.0 - (face_xy**2).sum(axis=1), 0.05, None))
    face = np.stack([-face_xy[:, 0], face_xy[:, 1], face_z], axis=1) * r
    kp[:, wb.FACE] = head[:, None, :] + face[None]
    modelled[wb.FACE] = True

    rotation = _yaw_matrices(pose.yaw)
    kp = np.einsum("tij,tkj->tki", rotation, kp)
    joints = {name: np.einsum("tij,tj->ti", rotation, value) for name, value in joints.items()}
    return Skeleton3D(keypoints=kp, modelled=modelled, joints=joints)


def _yaw_matrices(yaw: np.ndarray) -> np.ndarray:
    """Rotations [T, 3, 3] about Y taking the body frame to the camera-aligned frame.

    The body's left (+X) maps to screen right when yaw=0 (the person faces the camera, so their left is our right).
    """
    c, s = np.cos(yaw), np.sin(yaw)
    zero, one = np.zeros_like(yaw), np.ones_like(yaw)
    return np.stack(
        [
            np.stack([c, zero, s], axis=1),
            np.stack([zero, one, zero], axis=1),
            np.stack([-s, zero, c], axis=1),
        ],
        axis=1,
    )
