"""Training on Ray Train: the per-worker loop of `models.training` in `TorchTrainer` workers."""
