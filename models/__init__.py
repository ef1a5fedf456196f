"""Reference diffusion models built on diffusers components.

- models.config: ModelConfig and its parsers (`load_model_config`, `model_config_from_file`, `named_model_config`);
  named configurations in models/configs (`tiny`, `sd15`).
- models.animate_anyone: `AnimateAnyone` and `build_animate_anyone(config, weights_dir=None, random_init=False)`.
- models.pipelines: `AnimateAnyonePipeline(model)(reference_image, pose_sequence) -> uint8 [T, H, W, 3]`.
- models.components: the shared parts (codecs, UNets with temporal layers, reference attention, PoseGuider, CLIP
  image encoder, schedulers); models.weights: where pretrained folders are looked for.
"""

import logging

# diffusers and transformers import bitsandbytes where it is installed (pyiqa's dependencies bring it); on a CPU with
# AVX-512 BF16 it warns at import that an optional kernel package is absent, on every command. backdrop never
# quantises, so that warning is noise to its users.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
