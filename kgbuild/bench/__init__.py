"""Benchmark scripts; their numbers go in notes with the exact command that produced them."""
