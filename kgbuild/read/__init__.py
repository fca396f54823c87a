"""Files → ``Document``: txt, md, html (real HTML parser) and pdf (pypdf)."""

from kgbuild.read.reader import Discovery, FileProblem, ReadResult, discover, document_from_text, read_document

__all__ = ["Discovery", "FileProblem", "ReadResult", "discover", "document_from_text", "read_document"]
