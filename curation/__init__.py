"""Curation: the algorithms of each stage as plain functions, and the synthetic clip source."""
