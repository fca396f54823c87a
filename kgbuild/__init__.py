"""kgbuild: document folders → RAG relation extraction → queryable knowledge graph."""

__version__ = "0.1.0"
