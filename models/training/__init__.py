"""Training of the reference models, without Ray: the run settings, the per-worker loop, optimiser and EMA state,
and checkpoints as safetensors. `jobs/training` runs the loop on Ray Train."""
