"""Workflows wire the stages from a pipeline config: ingest a folder, train an adapter, evaluate on a benchmark."""
