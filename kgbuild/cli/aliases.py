"""``kgbuild aliases``: which names were merged into which entity and why; ``--undo`` splits one out."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from kgbuild.cli._common import app, console, plain, user_errors
from kgbuild.cli._options import with_store_options
from kgbuild.config import PipelineConfig
from kgbuild.types import Alias
from kgbuild.workflows.resolve import list_aliases, resolve_store, undo_alias


@app.command()
@with_store_options
def aliases(
    undo: Annotated[str | None, typer.Option("--undo", metavar="KEY", help="split this alias key (first column) "
                                             "back into its own entity; later runs never merge it again")] = None,
    into: Annotated[str | None, typer.Option("--into", metavar="KEY", help="with --undo: only its link to this "
                                             "entity key (one pronoun's link, of several)")] = None,
    resolve: Annotated[bool, typer.Option("--resolve", help="run the cross-document merge pass now")] = False,
    show_undone: Annotated[bool, typer.Option("--undone", help="list undone merges too")] = False,
    *,
    config: PipelineConfig,
) -> None:
    """List entity merges (acronym, short form, article, similarity) and pronoun links with their documents."""
    with user_errors():
        if undo is not None:
            changed = undo_alias(config, undo, into)
            console.print(Text.assemble("split ", plain(undo), " out of ", plain(changed[0].canonical),
                                        f" ({len(changed)} decision(s) undone)"), highlight=False)
            return
        if resolve:
            console.print(f"{len(resolve_store(config))} cross-document merge(s) made")
        records = list_aliases(config, include_undone=show_undone)
    console.print(alias_table(records))
    console.print(f"{len(records)} alias decision(s)")


def alias_table(records: list[Alias]) -> Table:
    """One row per (alias, entity): the reason, the best score and the documents it was found in."""
    grouped: dict[tuple[str, str], list[Alias]] = {}
    for record in records:
        grouped.setdefault((record.spelling_key, record.canonical_key), []).append(record)
    table = Table("alias key", "alias", "entity", "entity key", "type", "reason", "score", "documents")
    for (key, canonical_key), group in grouped.items():
        first = group[0]
        docs = sorted({r.doc_id for r in group if r.doc_id}) or ["all"]
        reason = first.reason + (" (undone)" if first.undone else "")
        table.add_row(plain(key), plain(first.spelling), plain(first.canonical), plain(canonical_key),
                      plain(first.type), plain(reason), f"{max(r.score for r in group):.3f}",
                      plain(", ".join(d[:16] for d in docs)))
    return table
