"""Training data for the reference models: conditioning examples and batches built from curated shards."""
