"""Shaded, textured primitives painted into an RGB canvas and a coverage mask at the same time.

Every primitive has a hard edge, so the mask is exactly the set of pixels whose colour the primitive set.
Work is confined to each primitive's bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Material:
    """A colour (RGB 0-255) with a stripe texture: period in pixels (0 for plain) and contrast."""

    color: tuple[float, float, float]
    stripe_period: float = 0.0
    stripe_contrast: float = 0.0
    stripe_angle: float = 0.0  # radians, in screen space for polygons; along the limb axis for capsules


def _box(points: np.ndarray, pad: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    x0 = max(int(np.floor(points[:, 0].min() - pad)), 0)
    y0 = max(int(np.floor(points[:, 1].min() - pad)), 0)
    x1 = min(int(np.ceil(points[:, 0].max() + pad)) + 1, width)
    y1 = min(int(np.ceil(points[:, 1].max() + pad)) + 1, height)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def _stripes(material: Material, coordinate: np.ndarray) -> np.ndarray | float:
    if material.stripe_period <= 0:
        return 1.0
    return 1.0 + material.stripe_contrast * np.sin(2 * np.pi * coordinate / material.stripe_period)


def _write(
    canvas: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], inside: np.ndarray, shade: np.ndarray
) -> None:
    x0, y0, x1, y1 = box
    region = canvas[y0:y1, x0:x1]
    region[inside] = np.clip(shade[inside], 0, 255).astype(np.uint8)
    mask[y0:y1, x0:x1] |= inside


def paint_capsule(
    canvas: np.ndarray, mask: np.ndarray, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, material: Material
) -> None:
    """A tapered capsule from p0 (radius r0) to p1 (radius r1), shaded like a lit cylinder."""
    height, width = mask.shape
    box = _box(np.stack([p0, p1]), max(r0, r1) + 1, width, height)
    if box is None:
        return
    x0, y0, x1, y1 = box
    px = np.arange(x0, x1, dtype=np.float32)[None, :]
    py = np.arange(y0, y1, dtype=np.float32)[:, None]
    v = (p1 - p0).astype(np.float32)
    length2 = float(v @ v)
    u = (
        np.zeros((y1 - y0, x1 - x0), np.float32)
        if length2 < 1e-9
        else np.clip(((px - p0[0]) * v[0] + (py - p0[1]) * v[1]) / length2, 0, 1)
    )
    dx = px - (p0[0] + u * v[0])
    dy = py - (p0[1] + u * v[1])
    dist = np.sqrt(dx * dx + dy * dy)
    radius = r0 + (r1 - r0) * u
    inside = dist < radius
    if not inside.any():
        return
    across = np.clip(dist / np.maximum(radius, 1e-3), 0, 1)
    # Lambert-like cylinder shading with a light from the upper left.
    side = np.sign(dx * -0.6 + dy * -0.8)
    light = 0.55 + 0.4 * np.sqrt(1 - across**2) + 0.08 * side * across
    tex = _stripes(material, u * np.sqrt(length2))
    shade = (light * tex)[..., None] * np.asarray(material.color, np.float32)
    _write(canvas, mask, box, inside, shade)


def paint_polygon(canvas: np.ndarray, mask: np.ndarray, points: np.ndarray, material: Material) -> None:
    """A convex polygon (the convex hull of `points`), shaded by a soft horizontal gradient."""
    height, width = mask.shape
    box = _box(points, 1, width, height)
    if box is None:
        return
    x0, y0, x1, y1 = box
    hull = cv2.convexHull(np.round((points - [x0, y0]) * 16).astype(np.int32))
    local = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(local, hull, 1, lineType=cv2.LINE_8, shift=4)
    inside = local.astype(bool)
    if not inside.any():
        return
    cx = points[:, 0].mean()
    half = max(np.ptp(points[:, 0]) / 2, 1.0)
    px = np.arange(x0, x1, dtype=np.float32)[None, :]
    py = np.arange(y0, y1, dtype=np.float32)[:, None]
    light = 0.72 + 0.28 * np.cos(np.clip((px - cx) / half, -1, 1) * np.pi / 2) + 0 * py
    c, s = np.cos(material.stripe_angle), np.sin(material.stripe_angle)
    tex = _stripes(material, px * c + py * s)
    shade = (light * tex)[..., None] * np.asarray(material.color, np.float32)
    _write(canvas, mask, box, inside, shade)


def paint_ellipse(
    canvas: np.ndarray,
    mask: np.ndarray,
    centre: np.ndarray,
    axes: tuple[float, float],
    angle_deg: float,
    material: Material,
) -> None:
    """A filled ellipse shaded like a lit sphere."""
    height, width = mask.shape
    pad = max(axes) + 1
    box = _box(centre[None], pad, width, height)
    if box is None:
        return
    x0, y0, x1, y1 = box
    px = np.arange(x0, x1, dtype=np.float32)[None, :] - centre[0]
    py = np.arange(y0, y1, dtype=np.float32)[:, None] - centre[1]
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    ex = (px * c + py * s) / max(axes[0], 1e-3)
    ey = (-px * s + py * c) / max(axes[1], 1e-3)
    r2 = ex * ex + ey * ey
    inside = r2 < 1.0
    if not inside.any():
        return
    light = 0.5 + 0.45 * np.sqrt(np.clip(1 - r2, 0, 1)) - 0.1 * (ex * 0.6 + ey * 0.8)
    c2, s2 = np.cos(material.stripe_angle), np.sin(material.stripe_angle)
    tex = _stripes(material, (px * c2 + py * s2))
    shade = (light * tex)[..., None] * np.asarray(material.color, np.float32)
    _write(canvas, mask, box, inside, shade)
