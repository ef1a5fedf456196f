"""Benchmark scripts: each writes a markdown report into reports/ with the command that made it (`make bench`)."""
