"""Files → ``Document``: txt, md, html (real HTML parser) and pdf (pypdf)."""

from kgbuild.read.reader import FileProblem, ReadResult, discover, read_document

__all__ = ["FileProblem", "ReadResult", "discover", "read_document"]
