"""One synthetic clip: its plan (drawn from a seed), its scene, its frames and its exact ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from curation.motion import camera_labels as cm
from curation.synthetic.camera_paths import CAMERA_RECIPES, resolve_recipe, sample_camera_path
from curation.synthetic.figure import Person
from curation.synthetic.follow_camera import FOLLOW_MOTIONS, FOLLOW_RECIPES, follow_camera_path, follow_heading
from curation.synthetic.motions import MOTIONS
from curation.synthetic.scene import (
    MovingObject,
    PlaneLayer,
    make_background,
    make_near_layer,
    near_layer_homographies,
)

GENERATOR_VERSION = "backdrop-synth/1"
#: "independent": persons placed independently of the camera (the default corpus, recipes in camera_paths);
#: "follow": the camera follows the one person's root motion (curation.synthetic.follow_camera).
CAMERA_MODES = ("independent", "follow")


@dataclass(frozen=True)
class SynthConfig:
    """Settings shared by every clip of a corpus."""

    width: int = 512
    height: int = 512
    frames: int = 48
    fps: float = 24.0
    grid_step: int = 16  # spacing of the ground-truth background query grid on frame 0, in pixels
    camera: str = "independent"  # one of CAMERA_MODES

    def __post_init__(self) -> None:
        if self.camera not in CAMERA_MODES:
            raise ValueError(f"camera must be one of {CAMERA_MODES}, got {self.camera!r}")
        # Multiples of 4: x264's output varies from run to run when a chroma plane's width or height is odd,
        # and a synthetic corpus must be reproducible to the byte.
        if self.width < 64 or self.height < 64 or self.width % 4 or self.height % 4:
            raise ValueError(f"clip size must be a multiple of 4 and at least 64x64, got {self.width}x{self.height}")
        if self.frames < 2:
            raise ValueError(f"a clip needs at least 2 frames, got {self.frames}")
        if not (0 < self.fps <= 240):
            raise ValueError(f"fps must be in (0, 240], got {self.fps}")
        if not (4 <= self.grid_step <= min(self.width, self.height) // 2):
            raise ValueError(f"grid_step must be between 4 and half the clip's shorter side, got {self.grid_step}")

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass(frozen=True)
class ClipPlan:
    """What one clip shows; drawn deterministically from (seed, index)."""

    seed: int
    index: int
    camera: tuple[str, ...]  # directed label components
    motions: tuple[str, ...]  # one per person
    parallax: bool
    moving_object: bool
    follow: str | None = None  # a follow-camera recipe (camera then empty: the path follows the person)

    @property
    def camera_label(self) -> str:
        return cm.compose_label(list(self.camera))


def plan_clip(seed: int, index: int, camera: str = "independent") -> ClipPlan:
    """The plan of clip `index` of the corpus made with `seed` and camera mode `camera` (see CAMERA_MODES).

    Independent: camera recipes cycle so that every 12 consecutive clips cover every camera component, and the
    first person's motion cycles so that every 5 consecutive clips cover every motion; the rest is random.
    Follow: the follow-camera recipes cycle (every 5 consecutive clips cover them), one person, whose motion the
    recipe names; parallax layer and moving object as random as in the independent mode.
    """
    if camera not in CAMERA_MODES:
        raise ValueError(f"camera must be one of {CAMERA_MODES}, got {camera!r}")
    rng = np.random.default_rng([seed, index, 0])
    if camera == "follow":
        recipe = FOLLOW_RECIPES[index % len(FOLLOW_RECIPES)]
        return ClipPlan(
            seed, index, (), (FOLLOW_MOTIONS[recipe],), bool(rng.random() < 0.4), bool(rng.random() < 0.35), recipe
        )
    camera = resolve_recipe(CAMERA_RECIPES[index % len(CAMERA_RECIPES)], rng)
    persons = 1 if rng.random() < 0.7 else 2
    motions = (MOTIONS[(index + seed) % len(MOTIONS)], *(str(rng.choice(MOTIONS)) for _ in range(persons - 1)))
    return ClipPlan(seed, index, camera, motions, bool(rng.random() < 0.4), bool(rng.random() < 0.35))


@dataclass
class RenderedFrame:
    rgb: np.ndarray  # [H, W, 3] uint8
    person_mask: np.ndarray  # [H, W] bool, all persons
    plane_occluded: np.ndarray  # [H, W] bool: the background plane is hidden (person, nearer layer, object)


class SyntheticClip:
    """A clip's scene, ready to render frame by frame and to report its ground truth."""

    def __init__(self, plan: ClipPlan, config: SynthConfig) -> None:
        self.plan, self.config = plan, config
        rng = np.random.default_rng([plan.seed, plan.index, 1])
        size, frames = config.size, config.frames
        if plan.follow is not None:  # the person first: the camera follows them
            self.persons = self._place_persons(rng, follow_heading(plan.follow, rng))
            person = self.persons[0]
            self.homographies, shift = follow_camera_path(
                plan.follow, rng, person.root, person.yaw, person.scale, config.fps, size
            )
            person.root = person.root.copy()
            person.root[:, 0] += shift[:, 0] / person.scale
            person.root[:, 1] -= shift[:, 1] / person.scale  # root y points up, image y down
        else:
            self.homographies = sample_camera_path(rng, plan.camera, frames, config.fps, size)
        self.background: PlaneLayer = make_background(rng, self.homographies, size)
        self.near: PlaneLayer | None = None
        if plan.parallax:
            self.near = make_near_layer(rng, near_layer_homographies(rng, self.homographies, size), size)
        self.moving_object = MovingObject.sample(rng, size) if plan.moving_object else None
        if plan.follow is None:
            self.persons = self._place_persons(rng)

    def _place_persons(self, rng: np.random.Generator, heading: float | None = None) -> list[Person]:
        width, height = self.config.size
        times = np.arange(self.config.frames) / self.config.fps
        count = len(self.plan.motions)
        if count == 1:
            slots = [(rng.uniform(0.38, 0.62), rng.uniform(0.55, 0.8))]
        else:
            slots = [
                (rng.uniform(0.22, 0.36), rng.uniform(0.45, 0.65)),
                (rng.uniform(0.64, 0.78), rng.uniform(0.45, 0.65)),
            ]
        persons = [
            Person.sample(
                rng, motion, times, cx * width, rng.uniform(0.9, 0.97) * height, scale * height, heading=heading
            )
            for motion, (cx, scale) in zip(self.plan.motions, slots, strict=True)
        ]
        # Ground truth lists persons largest first (the shard's order); nearer (larger) ones are drawn last.
        return sorted(persons, key=lambda p: -p.scale)

    def render_frame(
        self, t: int, *, scene_frame: int | None = None, extra_camera: np.ndarray | None = None
    ) -> RenderedFrame:
        """Frame `t`: the scene (background plane, moving object, nearer layer), then the persons over it.

        The benchmark's reference rows reuse this composition: `scene_frame` renders the scene as it is at another
        frame (0: the frozen background of a static-background animator) and `extra_camera` (3x3, image space) adds
        a known camera error to the scene; the persons are always those of frame `t`. `plane_occluded` then refers
        to the scene actually drawn.
        """
        size = self.config.size
        s = t if scene_frame is None else scene_frame
        rgb, _ = self.background.render(s, size, extra_camera)
        occluded = np.zeros((size[1], size[0]), bool)
        if self.moving_object is not None:
            self.moving_object.draw(s, rgb, occluded, extra_camera)
        if self.near is not None:
            near_rgb, near_cover = self.near.render(s, size, extra_camera)
            rgb[near_cover] = near_rgb[near_cover]
            occluded |= near_cover
        person_mask = np.zeros_like(occluded)
        for person in reversed(self.persons):
            person.draw(t, rgb, person_mask)
        return RenderedFrame(rgb, person_mask, occluded | person_mask)

    def frames(self) -> Iterator[RenderedFrame]:
        for t in range(self.config.frames):
            yield self.render_frame(t)

    def keypoints(self) -> np.ndarray:
        """[T, P, 133, 3] float32 (x, y, confidence), persons largest first."""
        width, height = self.config.size
        return np.stack([p.keypoints(width, height) for p in self.persons], axis=1)

    def query_points(self) -> np.ndarray:
        """[N, 2] float32: the regular grid of background query points on frame 0 (row-major)."""
        step = self.config.grid_step
        xs = np.arange(step / 2, self.config.width, step)
        ys = np.arange(step / 2, self.config.height, step)
        gx, gy = np.meshgrid(xs, ys)
        return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)

    def track_positions(self) -> np.ndarray:
        """[T, N, 2] float32: where each query point of the background plane is in frame t."""
        q = self.query_points().astype(np.float64)
        homog = np.concatenate([q, np.ones((len(q), 1))], axis=1)
        mapped = np.einsum("tij,nj->tni", self.homographies, homog)
        return (mapped[..., :2] / mapped[..., 2:3]).astype(np.float32)

    @property
    def camera_label(self) -> str:
        """The plan's label; a follow camera's path is labelled from its homographies, by the labeller the curation
        stage uses (a jump's tilt goes up and back down: its label says what the clip shows overall)."""
        if self.plan.follow is None:
            return self.plan.camera_label
        return cm.label_camera_motion(self.homographies, self.config.size)

    def metadata(self) -> dict:
        follow = {} if self.plan.follow is None else {"follow": self.plan.follow}
        return {
            "generator": GENERATOR_VERSION,
            "seed": self.plan.seed,
            "index": self.plan.index,
            "fps": self.config.fps,
            "width": self.config.width,
            "height": self.config.height,
            "frames": self.config.frames,
            **follow,
            "camera_label": self.camera_label,
            "camera_magnitude": round(cm.camera_magnitude(self.homographies, self.config.size), 4),
            "motion": self.plan.motions[0] if len(set(self.plan.motions)) == 1 else "+".join(self.plan.motions),
            "motions": [p.motion for p in self.persons],
            "num_persons": len(self.persons),
            "parallax": self.plan.parallax,
            "moving_object": self.plan.moving_object,
            "grid_step": self.config.grid_step,
            "config": self.config_dict(self.config),
        }

    @staticmethod
    def config_dict(config: SynthConfig) -> dict:
        """The config as metadata; the default camera mode is left out, so the default corpus's files are the
        same, byte for byte, as before the mode existed (and earlier corpora resume)."""
        values = asdict(config)
        if values["camera"] == "independent":
            del values["camera"]
        return values


def track_visibility(tracks: np.ndarray, occluded: np.ndarray) -> np.ndarray:
    """[N] bool for one frame: the point is inside the frame and the background plane is not hidden there."""
    height, width = occluded.shape
    x, y = tracks[:, 0], tracks[:, 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    xi = np.clip(np.round(x).astype(int), 0, width - 1)
    yi = np.clip(np.round(y).astype(int), 0, height - 1)
    return inside & ~occluded[yi, xi]


@dataclass
class RenderedClip:
    """Everything about a clip in memory (tests and small clips; the corpus writer streams instead)."""

    frames: np.ndarray  # [T, H, W, 3] uint8, before encoding
    person_masks: np.ndarray  # [T, H, W] bool
    plane_occluded: np.ndarray  # [T, H, W] bool
    keypoints: np.ndarray
    homographies: np.ndarray
    tracks: np.ndarray
    visible: np.ndarray
    metadata: dict


def render_clip(
    seed: int, index: int = 0, config: SynthConfig | None = None, plan: ClipPlan | None = None
) -> RenderedClip:
    """Render a whole clip and its ground truth in memory."""
    config = config or SynthConfig()
    clip = SyntheticClip(plan or plan_clip(seed, index, config.camera), config)
    rendered = list(clip.frames())
    tracks = clip.track_positions()
    occluded = np.stack([f.plane_occluded for f in rendered])
    visible = np.stack([track_visibility(tracks[t], occluded[t]) for t in range(config.frames)])
    return RenderedClip(
        frames=np.stack([f.rgb for f in rendered]),
        person_masks=np.stack([f.person_mask for f in rendered]),
        plane_occluded=occluded,
        keypoints=clip.keypoints(),
        homographies=clip.homographies.astype(np.float32),
        tracks=tracks,
        visible=visible,
        metadata=clip.metadata(),
    )
