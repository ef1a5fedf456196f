"""DisentangledPipeline: a reference image, a pose sequence and the driving clip's track maps -> a video, clip by
clip (arXiv 2405.16393's long-video scheme).

Clips are `clip_frames` long. With `last_frame_concat`, each clip after the first starts at the previous clip's last
frame: that frame (decoded, then encoded again: what a user of the model would hand over) is concatenated with the
clip's noisy latents along channels, and it is the clip's first frame: at every step that frame's latents are the
handed-over latents noised to the step's level, and at the end exactly them, so the seam repeats one frame, which
the assembled video keeps once. Without it, clips are independent and do not overlap. Each clip's cross-attention
reads the handed-over frame's CLIP token and, with `global_feature`, the first reference's (the ReferenceNet always
reads the first reference). Classifier-free guidance as AnimateAnyonePipeline's (models.pipelines.base).
"""

from __future__ import annotations

import numpy as np
import torch

from models.disentangled import DisentangledAnimator
from models.pipelines.base import AnimationPipeline, as_poses, as_reference, as_uint8_frames

__all__ = ["DisentangledPipeline", "clip_spans"]


def clip_spans(num_frames: int, clip_frames: int, handover: bool) -> list[range]:
    """The clips of a video: `clip_frames` long (the last may be shorter), each starting at the previous one's last
    frame when `handover`, else where it ended."""
    if num_frames < 1 or clip_frames < 2:
        raise ValueError(f"need num_frames >= 1 and clip_frames >= 2, got {num_frames}, {clip_frames}")
    spans, start = [], 0
    while True:
        stop = min(start + clip_frames, num_frames)
        spans.append(range(start, stop))
        if stop == num_frames:
            return spans
        start = stop - 1 if handover else stop


class DisentangledPipeline(AnimationPipeline):
    """`pipeline(reference_image, pose_sequence, track_maps) -> uint8 [T, H, W, 3]`."""

    model: DisentangledAnimator

    @torch.no_grad()
    def __call__(
        self,
        reference_image: np.ndarray | torch.Tensor,
        pose_sequence: np.ndarray | torch.Tensor,
        track_maps: np.ndarray | torch.Tensor,
        *,
        num_inference_steps: int = 25,
        guidance_scale: float = 3.5,
        generator: torch.Generator | None = None,
        clip_frames: int | None = None,
        return_clips: bool = False,
    ) -> np.ndarray | list[np.ndarray]:
        """`track_maps` float [T, C, H, W] (models.data.background). `return_clips`: the list of each clip's frames
        (uint8 [len, H, W, 3]) instead of the assembled video."""
        model, config = self.model, self.model.config
        device = model.device
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        handover_on = config.disentangled.last_frame_concat
        warped_on = config.disentangled.warped_reference
        poses = as_poses(pose_sequence)
        maps = torch.as_tensor(track_maps).float()
        num_frames, height, width = poses.shape[0], poses.shape[2], poses.shape[3]
        if maps.ndim != 4 or maps.shape[0] != num_frames or tuple(maps.shape[2:]) != (height, width):
            raise ValueError(f"track maps {tuple(maps.shape)} do not match the pose sequence {tuple(poses.shape)}")
        self.check_frame_size(height, width)
        spans = clip_spans(num_frames, clip_frames or config.context_frames, handover_on)

        clips: list[torch.Tensor] = []
        with self.sampling():
            reference = as_reference(reference_image, (height, width)).to(device)
            reference_latents = model.codec.encode(reference, generator)
            handover_image: torch.Tensor | None = None
            for span in spans:
                handover = model.codec.encode(handover_image, generator) if handover_image is not None else None
                tokens = model.tokens(reference, handover_image)
                tokens = self.write_reference(reference_latents, tokens, guided=guidance_scale > 1)
                features = model.combine(
                    model.pose_features(poses[None, span.start : span.stop].to(device)),
                    model.track_features(maps[None, span.start : span.stop].to(device)),
                    len(span),
                )
                warped = model.warped_latents(maps[None, span.start : span.stop]) if warped_on else None
                latents = self._sample(
                    span, features, tokens, handover, guidance_scale, generator, num_inference_steps, warped
                )
                frames = model.decode_latents(latents)[0].clamp(-1, 1)  # [len, 3, H, W]
                clips.append(frames)
                handover_image = frames[-1:] if handover_on else None
        as_uint8 = [as_uint8_frames(c) for c in clips]
        if return_clips:
            return as_uint8
        skip = 1 if handover_on else 0
        return np.concatenate([as_uint8[0], *(c[skip:] for c in as_uint8[1:])])

    def _sample(
        self,
        span: range,
        features: torch.Tensor,
        tokens: torch.Tensor,
        handover: torch.Tensor | None,
        guidance_scale: float,
        generator: torch.Generator,
        num_inference_steps: int,
        warped: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The latents [1, C, len, h, w] of one clip; `warped`: the warped reference's latents (the variant)."""
        device = self.model.device
        size = features.shape[-2:]
        shape = (1, self.model.codec.latent_channels, len(span), *size)
        latents = torch.randn(shape, generator=generator, device=generator.device).to(device)
        latents = latents * self.scheduler.init_noise_sigma
        first_noise = torch.randn(shape[:2] + shape[3:], generator=generator, device=generator.device).to(device)

        def hold_first_frame(x: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
            """The first frame is the handed-over one, at this step's noise level."""
            x[:, :, 0] = self.scheduler.add_noise(handover, first_noise, timestep[None])
            return x

        def predict(x: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
            return self.predict(
                x, timestep, tokens, features, guidance_scale, handover_latents=handover, warped_latents=warped
            )

        hold = hold_first_frame if handover is not None else None
        latents = self.denoising_loop(latents, num_inference_steps, generator, predict, hold)
        if handover is not None:
            latents[:, :, 0] = handover
        return latents
