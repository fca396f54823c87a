"""Benchmark loaders: each reads its dataset's original distribution format into ``CandidatePair``s."""
