"""Benchmark: metrics, evaluation protocols, the scoring harness and the leaderboard."""
