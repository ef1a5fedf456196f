"""The scene behind the people: a large textured background plane, an optional nearer layer that moves with
parallax, and an optional independently moving object."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from curation.motion.camera_labels import decompose_homographies
from curation.synthetic.camera_paths import similarity_homographies
from curation.synthetic.paint import Material, paint_ellipse


def covering_box(homographies: np.ndarray, size: tuple[int, int], margin: int = 8) -> tuple[int, int, int, int]:
    """Integer box (x0, y0, x1, y1), in the source plane's coordinates, that every frame's view of it lies in."""
    width, height = size
    corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], dtype=np.float64)
    back = np.einsum("tij,cj->tci", np.linalg.inv(homographies), corners)
    back = back[..., :2] / back[..., 2:3]
    x0, y0 = np.floor(back.reshape(-1, 2).min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(back.reshape(-1, 2).max(axis=0)).astype(int) + margin
    return int(x0), int(y0), int(x1), int(y1)


def make_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A rich, band-limited RGB texture: multi-scale colour noise, blocks, discs and lines, lightly blurred.

    The blur keeps detail above ~3 pixels, so resampling the texture (camera motion) is nearly lossless, while
    leaving plenty of corners for point trackers.
    """
    base = np.empty((height, width, 3), np.float32)
    base[:] = rng.uniform(60, 200, size=3)
    gradient = np.linspace(-1, 1, height, dtype=np.float32)[:, None, None] * rng.uniform(-40, 40, size=3)
    base += gradient
    for cell, amplitude in ((96, 45.0), (40, 30.0), (16, 22.0), (6, 12.0)):
        small = rng.standard_normal((height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        base += amplitude * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    canvas = np.clip(base, 0, 255).astype(np.uint8)
    area = height * width
    for _ in range(area // 2500):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        kind = rng.random()
        if kind < 0.45:
            w, h = (int(v) for v in rng.integers(6, 60, size=2))
            cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, -1 if rng.random() < 0.7 else 2)
        elif kind < 0.8:
            cv2.circle(canvas, (x, y), int(rng.integers(3, 30)), colour, -1 if rng.random() < 0.7 else 2)
        else:
            dx, dy = (int(v) for v in rng.integers(-60, 60, size=2))
            cv2.line(canvas, (x, y), (x + dx, y + dy), colour, int(rng.integers(1, 4)))
    return cv2.GaussianBlur(canvas, (0, 0), 1.1)


@dataclass
class PlaneLayer:
    """A textured plane seen through per-frame homographies (plane coordinates -> frame t pixels)."""

    texture: np.ndarray  # [h, w, 3] uint8
    alpha: np.ndarray | None  # [h, w] uint8 (255 opaque) or None for an opaque plane
    origin: tuple[int, int]  # plane coordinates of texture pixel (0, 0)
    homographies: np.ndarray  # [T, 3, 3]

    def _warp_matrix(self, frame: int) -> np.ndarray:
        shift = np.array([[1.0, 0.0, self.origin[0]], [0.0, 1.0, self.origin[1]], [0.0, 0.0, 1.0]])
        return self.homographies[frame] @ shift

    def render(
        self, frame: int, size: tuple[int, int], extra: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The layer's pixels at `frame` and, for a layer with alpha, its coverage mask.

        `extra` (3x3) is an image-space homography applied after the camera's: a camera error injected on purpose
        (the benchmark's shifted-background reference row)."""
        matrix = self._warp_matrix(frame)
        if extra is not None:
            matrix = np.asarray(extra, np.float64) @ matrix
        rgb = cv2.warpPerspective(self.texture, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if self.alpha is None:
            return rgb, None
        cover = cv2.warpPerspective(self.alpha, matrix, size, flags=cv2.INTER_NEAREST, borderValue=0)
        return rgb, cover > 127


def make_background(rng: np.random.Generator, homographies: np.ndarray, size: tuple[int, int]) -> PlaneLayer:
    x0, y0, x1, y1 = covering_box(homographies, size)
    return PlaneLayer(make_texture(rng, y1 - y0, x1 - x0), None, (x0, y0), homographies)


def make_near_layer(rng: np.random.Generator, homographies: np.ndarray, size: tuple[int, int]) -> PlaneLayer:
    """Posts and bushes on a nearer plane: opaque where alpha is set, transparent elsewhere."""
    width, height = size
    x0, y0, x1, y1 = covering_box(homographies, size)
    tw, th = x1 - x0, y1 - y0
    texture = np.empty((th, tw, 3), np.uint8)
    alpha = np.zeros((th, tw), np.uint8)
    post_colour = rng.uniform(60, 180, size=3)
    texture[:] = post_colour.astype(np.uint8)
    spacing = rng.uniform(0.35, 0.55) * width
    x = rng.uniform(0, spacing) + 0.0
    while x < tw:
        post_w = int(rng.uniform(0.03, 0.06) * width)
        top = int(rng.uniform(-0.1, 0.45) * height) - y0
        xi = int(x)
        stripes = 1 + 0.18 * np.sin(np.arange(th)[:, None] * rng.uniform(0.15, 0.4) + np.arange(post_w)[None] * 0.3)
        colour = rng.uniform(50, 200, size=3)
        seg = slice(max(top, 0), th)
        cols = slice(xi, min(xi + post_w, tw))
        ncols = cols.stop - cols.start
        if ncols > 0:
            texture[seg, cols] = np.clip(stripes[seg, :ncols, None] * colour, 0, 255).astype(np.uint8)
            alpha[seg, cols] = 255
        x += spacing
    for _ in range(int(tw / width * 3)):
        centre = (int(rng.uniform(0, tw)), int(height - y0 + rng.uniform(-0.05, 0.1) * height))
        radius = int(rng.uniform(0.05, 0.1) * height)
        leaf = tuple(int(c) for c in rng.uniform([20, 80, 20], [90, 180, 90]))
        cv2.circle(texture, centre, radius, leaf, -1)
        cv2.circle(alpha, centre, radius, 255, -1)
    texture = cv2.GaussianBlur(texture, (0, 0), 0.8)
    return PlaneLayer(texture, alpha, (x0, y0), homographies)


def near_layer_homographies(rng: np.random.Generator, camera: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A nearer plane's motion: the camera's translation amplified (parallax) plus a drift of its own."""
    params = decompose_homographies(camera, size)
    frames = len(camera)
    gain = rng.uniform(1.5, 2.2)
    drift = rng.uniform(0.3, 1.0) * rng.choice([-1.0, 1.0])
    steps = np.arange(frames, dtype=np.float64)
    return similarity_homographies(
        gain * params.tx + drift * steps, gain * params.ty, params.rotation_deg, params.scale**gain, size
    )


@dataclass
class MovingObject:
    """A textured ellipse moving on its own across the frame."""

    start: np.ndarray  # [2] pixels
    velocity: np.ndarray  # [2] pixels per frame
    axes: tuple[float, float]
    spin: float  # degrees per frame
    material: Material

    @classmethod
    def sample(cls, rng: np.random.Generator, size: tuple[int, int]) -> MovingObject:
        width, height = size
        colour = tuple(float(c) for c in rng.uniform(30, 230, size=3))
        speed = rng.uniform(1.0, 3.0)
        angle = rng.uniform(0, 2 * np.pi)
        return cls(
            start=np.array([rng.uniform(0.15, 0.85) * width, rng.uniform(0.1, 0.6) * height]),
            velocity=speed * np.array([np.cos(angle), np.sin(angle)]),
            axes=(rng.uniform(0.06, 0.11) * width, rng.uniform(0.04, 0.08) * height),
            spin=rng.uniform(-2, 2),
            material=Material(colour, rng.uniform(5, 12), 0.3, rng.uniform(0, np.pi)),
        )

    def draw(self, frame: int, canvas: np.ndarray, mask: np.ndarray, extra: np.ndarray | None = None) -> None:
        """Paint the object at `frame`; `extra` (3x3, as in `PlaneLayer.render`) moves its centre, which is exact
        for the translations the benchmark injects (the ellipse itself is not sheared or scaled)."""
        centre = self.start + frame * self.velocity
        if extra is not None:
            mapped = np.asarray(extra, np.float64) @ np.array([centre[0], centre[1], 1.0])
            centre = mapped[:2] / mapped[2]
        paint_ellipse(canvas, mask, centre, self.axes, self.spin * frame, self.material)
