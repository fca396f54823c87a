"""Entity resolution: which mentions name the same real-world entity.

Within a document, rules that rarely err link an acronym to its expansion, a short form to the one
full name it fits, and a name with a leading article to the name without (``within_document``).
Across documents, names of one type whose MiniLM embeddings are close are merged (``across_documents``).
Both only propose :class:`kgbuild.types.Alias` decisions; the store applies them and can undo them.
"""
