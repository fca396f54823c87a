"""Metrics (small pure functions) and report writing for benchmark evaluation."""
