"""Reference diffusion models built on diffusers components."""
