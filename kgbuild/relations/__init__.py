"""Relation labelling: schema, retrieval, prompt, generator, extractor, training."""
