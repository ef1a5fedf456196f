"""Reference diffusion models built on diffusers components.

- models.config: ModelConfig and its parsers (`load_model_config`, `model_config_from_file`, `named_model_config`);
  named configurations in models/configs (`tiny`, `sd15`).
- models.animate_anyone: `AnimateAnyone` and `build_animate_anyone(config, weights_dir=None, random_init=False)`.
- models.disentangled: the disentangled pose-and-tracks model (`DisentangledAnimator`, `build_disentangled`);
  models.animate_anywhere: the AnimateAnywhere-style model (`AnimateAnywhere`, `build_animate_anywhere`);
  models.registry: `build_model(config)`, `pipeline_for(model)`, `background_inputs_for(config)` by `config.kind`.
- models.pipelines: `AnimateAnyonePipeline(model)(reference_image, pose_sequence) -> uint8 [T, H, W, 3]`;
  `pipeline_disentangled.DisentangledPipeline(model)(reference_image, pose_sequence, track_maps)` (clip by clip).
- models.data: conditioning from shards (poses, frames, references; background: track maps, warped references,
  epipolar geometry).
- models.components: the shared parts (codecs, UNets with temporal layers, reference attention, PoseGuider, CLIP
  image encoder, schedulers) and the background-aware ones (Temporal Motion Block, Background Motion Learner,
  epipolar mask and loss); models.weights: where pretrained folders are looked for.
"""

import logging

# diffusers and transformers import bitsandbytes where it is installed (pyiqa's dependencies bring it); on a CPU with
# AVX-512 BF16 it warns at import that an optional kernel package is absent, on every command. backdrop never
# quantises, so that warning is noise to its users.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
