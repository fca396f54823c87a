"""spaCy sentences and named entities → candidate pairs allowed by the relation schema."""
