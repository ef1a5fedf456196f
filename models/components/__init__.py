"""The parts AnimateAnyone-style models share: codecs, UNets with temporal layers, reference attention, pose guider,
image encoder and noise schedules, each built from diffusers / transformers components."""
