"""Motions of a synthetic person: walk, dance, wave, turn, jump, each with random parameters per clip.

A motion maps frame times (seconds) to a `PoseSequence`. Root offsets are in body-height units; the person is
rendered roughly in place (the camera follows them), with a small drift where the motion travels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from curation.synthetic.body import PoseSequence

MOTIONS: tuple[str, ...] = ("walk", "dance", "wave", "turn", "jump")

deg = np.radians


def _walk(t: np.ndarray, rng: np.random.Generator) -> PoseSequence:
    pose = PoseSequence.rest(len(t))
    cadence = rng.uniform(0.8, 1.2)  # gait cycles per second
    phase = 2 * np.pi * cadence * t + rng.uniform(0, 2 * np.pi)
    swing = deg(rng.uniform(20, 32))
    direction = rng.choice([-1.0, 1.0])
    pose.yaw[:] = direction * deg(rng.uniform(55, 90))
    for side, sign in (("l", 1.0), ("r", -1.0)):
        hip = sign * swing * np.sin(phase)
        knee = deg(40) * np.clip(np.sin(phase + sign * np.pi / 2 + np.pi / 2 * (sign < 0)), 0, None)
        pose.limbs[f"{side}_thigh"][:, 1] = hip
        pose.limbs[f"{side}_shin"][:, 1] = hip - knee - deg(5)
        arm = -0.8 * hip
        pose.limbs[f"{side}_upper_arm"][:, 1] = arm
        pose.limbs[f"{side}_forearm"][:, 1] = arm + deg(25)
        pose.limbs[f"{side}_hand"][:, 1] = arm + deg(30)
        pose.foot_pitch[:, 0 if sign > 0 else 1] = 0.3 * np.clip(-hip, 0, None)
    pose.root[:, 1] = 0.012 * np.abs(np.sin(phase)) - 0.008
    pose.root[:, 0] = direction * rng.uniform(0.02, 0.08) * t
    pose.lean[:] = deg(rng.uniform(0, 6))
    return pose


def _dance(t: np.ndarray, rng: np.random.Generator) -> PoseSequence:
    pose = PoseSequence.rest(len(t))
    beat = 2 * np.pi * rng.uniform(0.8, 1.6) * t + rng.uniform(0, 2 * np.pi)
    pose.yaw[:] = deg(rng.uniform(-25, 25)) + deg(rng.uniform(15, 35)) * np.sin(beat / 2)
    pose.root[:, 0] = rng.uniform(0.02, 0.05) * np.sin(beat)
    pose.root[:, 1] = -0.02 * (1 - np.cos(2 * beat)) / 2
    for side, sign in (("l", 1.0), ("r", -1.0)):
        lift = deg(rng.uniform(40, 100))
        pose.limbs[f"{side}_upper_arm"][:, 0] = deg(30) + lift * (0.5 + 0.5 * np.sin(beat + sign * np.pi / 2))
        pose.limbs[f"{side}_upper_arm"][:, 1] = deg(20) * np.sin(beat)
        pose.limbs[f"{side}_forearm"][:, 0] = pose.limbs[f"{side}_upper_arm"][:, 0] + deg(50) * np.sin(2 * beat)
        pose.limbs[f"{side}_forearm"][:, 1] = deg(30)
        pose.limbs[f"{side}_hand"][:] = pose.limbs[f"{side}_forearm"]
        bend = deg(25) * (0.5 + 0.5 * np.sin(beat + sign * np.pi / 2))
        pose.limbs[f"{side}_thigh"][:, 0] = deg(8)
        pose.limbs[f"{side}_thigh"][:, 1] = bend
        pose.limbs[f"{side}_shin"][:, 0] = deg(4)
        pose.limbs[f"{side}_shin"][:, 1] = -bend
    return pose


def _wave(t: np.ndarray, rng: np.random.Generator) -> PoseSequence:
    pose = PoseSequence.rest(len(t))
    side = str(rng.choice(["l", "r"]))
    pose.yaw[:] = deg(rng.uniform(-30, 30))
    rate = 2 * np.pi * rng.uniform(1.2, 2.5) * t
    pose.limbs[f"{side}_upper_arm"][:, 0] = deg(rng.uniform(70, 100))
    pose.limbs[f"{side}_forearm"][:, 0] = deg(165) + deg(rng.uniform(15, 30)) * np.sin(rate)
    pose.limbs[f"{side}_hand"][:] = pose.limbs[f"{side}_forearm"]
    pose.root[:, 0] = 0.01 * np.sin(rate / 3)
    pose.lean[:] = deg(3) * np.sin(rate / 4)
    return pose


def _turn(t: np.ndarray, rng: np.random.Generator) -> PoseSequence:
    pose = PoseSequence.rest(len(t))
    duration = max(float(t[-1]), 1e-3)
    total = deg(rng.uniform(150, 360)) * rng.choice([-1.0, 1.0])
    pose.yaw[:] = rng.uniform(-np.pi, np.pi) + total * t / duration
    step = 2 * np.pi * rng.uniform(1.0, 1.6) * t
    for side, sign in (("l", 1.0), ("r", -1.0)):
        pose.limbs[f"{side}_thigh"][:, 1] = deg(10) * np.clip(sign * np.sin(step), 0, None)
        pose.limbs[f"{side}_shin"][:, 1] = -deg(10) * np.clip(sign * np.sin(step), 0, None)
        pose.limbs[f"{side}_upper_arm"][:, 0] = deg(rng.uniform(10, 40))
    return pose


def _jump(t: np.ndarray, rng: np.random.Generator) -> PoseSequence:
    pose = PoseSequence.rest(len(t))
    period = rng.uniform(0.7, 1.1)
    cycle = ((t + rng.uniform(0, period)) % period) / period  # 0..1: crouch, take-off, flight, landing
    flight = np.clip(np.sin(np.pi * (cycle - 0.35) / 0.5), 0, None) * (cycle > 0.35) * (cycle < 0.85)
    crouch = np.clip(np.sin(np.pi * cycle / 0.35), 0, None) * (cycle <= 0.35)
    height = rng.uniform(0.08, 0.18)
    pose.root[:, 1] = height * flight - 0.06 * crouch
    pose.yaw[:] = deg(rng.uniform(-40, 40))
    for side in ("l", "r"):
        pose.limbs[f"{side}_thigh"][:, 1] = deg(50) * crouch + deg(10) * flight
        pose.limbs[f"{side}_shin"][:, 1] = -deg(45) * crouch - deg(15) * flight
        pose.limbs[f"{side}_upper_arm"][:, 0] = deg(15) + deg(120) * flight
        pose.limbs[f"{side}_upper_arm"][:, 1] = -deg(30) * crouch
        pose.limbs[f"{side}_forearm"][:, 0] = deg(20) + deg(130) * flight
        pose.limbs[f"{side}_hand"][:, 0] = deg(20) + deg(130) * flight
        pose.foot_pitch[:, 0 if side == "l" else 1] = deg(40) * flight
    pose.lean[:] = deg(20) * crouch
    return pose


MOTION_FUNCTIONS: dict[str, Callable[[np.ndarray, np.random.Generator], PoseSequence]] = {
    "walk": _walk,
    "dance": _dance,
    "wave": _wave,
    "turn": _turn,
    "jump": _jump,
}


def animate(motion: str, times: np.ndarray, rng: np.random.Generator) -> PoseSequence:
    """The pose sequence of `motion` at the given frame times (seconds)."""
    if motion not in MOTION_FUNCTIONS:
        raise ValueError(f"unknown motion {motion!r}; known: {MOTIONS}")
    return MOTION_FUNCTIONS[motion](np.asarray(times, dtype=np.float64), rng)
