"""What every command shares: the app, the consoles, one-line errors, logging and progress bars."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from kgbuild.errors import KgbuildError
from kgbuild.read.reader import path_text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\n\u2028\u2029]")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build a knowledge graph from a folder of documents, query it, train and evaluate the "
                       "relation extractor.")
console = Console()
err = Console(stderr=True)


def visible(value: object) -> str:
    """``value`` as text whose control characters are shown, never sent: ESC becomes ``\\x1b``; so does a file
    name's undecodable byte (``path_text``), which no terminal encoding could carry."""
    return _CONTROL.sub(_escaped, path_text(value))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(value: object) -> str:
    """``visible``, with tabs and line breaks shown too: for output that promises one line per item."""
    return _LINE_BREAKS.sub(_escaped, visible(value))


def plain(value: object) -> Text:
    """Document text for a table cell or a line: never read as markup, control characters made visible."""
    return Text(visible(value))


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line (never wrapped, never read as markup) and return the exit to raise."""
    err.print(Text.assemble(("error:", "bold red"), " ", visible(" ".join(message.split()))), highlight=False,
              soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Every error a user can cause (and the file system's) becomes one line and exit code 1."""
    try:
        yield
    except (KgbuildError, OSError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(first_line) from exc


def configure_logging() -> None:
    level = os.environ.get("KGBUILD_LOG", "WARNING").upper()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def progress_bar(*extra: ProgressColumn, always: bool = True) -> Progress:
    """Description, bar, done/total, any extra columns, elapsed time; on stderr.

    ``always=False`` hides it when stderr is not a terminal (unless KGBUILD_PROGRESS is set)."""
    hidden = not always and not err.is_terminal and "KGBUILD_PROGRESS" not in os.environ
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), *extra,
                    TimeElapsedColumn(), console=err, transient=False, disable=hidden)
