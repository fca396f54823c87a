"""Helpers for tests and benchmarks that need real services (kept in the package so the benches can use them)."""
