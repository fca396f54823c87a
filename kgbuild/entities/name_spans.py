"""Where the names of a spaCy sentence are: its entities, repaired where spaCy cuts names it does not know, and
the runs of proper nouns its NER left out.

spaCy's medium English model cuts "the National Institute of Anthropology and History" at the conjunction,
splits "Citlali Hernández Ruiz" into two people, and finds no entity at all in "lock Sione Vaifale" or "Museo
Textil de Oaxaca" (``kgbuild eval --dataset docs`` counted 26 gold triples lost as "entity not found"). The
proper-noun runs carry no type: ``entities/context_types.py`` keeps one only where its classifier is sure what
it names, so a capitalised word that names nothing ("Coach extends contract") is dropped there or here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from kgbuild.types import Sentence, normalise_name

UNTYPED = "UNTYPED"  # a proper-noun run the NER left out: kept only where the type classifier is sure of its class
OPENING = "UNTYPED_OPENING"  # a known word opening its sentence: a name only where the document names it elsewhere

NAME_PARTICLES = frozenset({"de", "del", "della", "da", "do", "dos", "di", "du", "van", "von", "der", "den", "la",
                            "le", "los", "las", "al", "el", "bin", "ibn"})


_ADJECTIVES = frozenset({"NORP", "LANGUAGE"})
_PLACES = frozenset({"GPE", "LOC"})


def entity_spans(sent: Any) -> Iterator[tuple[Any, Any]]:
    """Each entity's span, with the entity that gives its type: two people with nothing between them are one
    ("Citlali Hernández" + "Ruiz"), so are a nationality and the place right after it ("French" + "Guiana"),
    and an "X of Y and Z" organisation is not cut at "and"."""
    ents = list(sent.ents)
    at = 0
    while at < len(ents):
        ent = ents[at]
        following = ents[at + 1] if at + 1 < len(ents) else None
        if following is not None and following.start == ent.end \
                and ent.doc.text[ent.end_char:following.start_char] == " " and (
                    ent.label_ == following.label_ == "PERSON"
                    or (ent.label_ in _ADJECTIVES and following.label_ in _PLACES)):
            yield ent.doc[ent.start:following.end], following
            at += 2
            continue
        yield whole_name(ent, sent.end), ent
        at += 1


def whole_name(ent: Any, sentence_end: int) -> Any:
    """spaCy's span, continued over "and" and the capitalised words that end an organisation named "X of Y and
    Z", which spaCy cuts at the conjunction ("the National Institute of Anthropology" | "and History"). The words
    must be no entity of their own ("the Ministry of Health and Mary Smith" keeps both)."""
    doc = ent.doc
    if ent.label_ != "ORG" or " of " not in ent.text or ent.end + 1 >= sentence_end or doc[ent.end].lower_ != "and":
        return ent
    end = ent.end + 1
    while end < sentence_end and doc[end].is_title and doc[end].is_alpha and doc[end].ent_iob_ == "O":
        end += 1
    return ent if end == ent.end + 1 else doc[ent.start:end]


def proper_noun_runs(sent: Any) -> Iterator[tuple[Any, str]]:
    """Runs of capitalised proper nouns outside every entity, with name particles inside them ("Museo Textil de
    Oaxaca"), except a title before a person's name ("Mayor Andrei Mureșan"), each with its pseudo-type: a known
    word that opens the sentence is only ``OPENING`` ("Coach extends contract", "Sherpa, 50, was born ...";
    an unknown one, "Vaifale was born ...", is a run like any other)."""
    tokens, run_start = list(sent), None
    for i, token in enumerate([*tokens, None]):
        inside = token is not None and token.ent_iob_ == "O" and (
            (token.pos_ == "PROPN" and token.text[:1].isupper())
            or (run_start is not None and token.lower_ in NAME_PARTICLES))
        if inside:
            run_start = i if run_start is None else run_start
            continue
        if run_start is not None:
            end = i
            while tokens[end - 1].lower_ in NAME_PARTICLES:
                end -= 1
            run = sent.doc[tokens[run_start].i:tokens[end - 1].i + 1]
            if not _title_before_a_person(run):
                yield run, OPENING if _known_word_opening(run, sent) else UNTYPED
        run_start = None


_JOINABLE = frozenset({"ORG", "GPE", "LOC", "FAC"})


def runs_joined_to_names(spans: Sequence[tuple[Any, str]]) -> list[tuple[Any, str]]:
    """A sentence's spans in order, where an untyped run that ends one space before an entity joins it, with the
    entity's type for the classifier to confirm or change: spaCy found "Oviedo" of "Real Oviedo", and
    "Guardiola" of "Pep Guardiola" (as an organisation). A person's name is never joined: what stands before it
    is a title ("Mayor Andrei Mureșan"), and a sentence's known opening word never is ("Coach Guardiola")."""
    joined: list[tuple[Any, str]] = []
    for span, kind in spans:
        if joined and kind in _JOINABLE and joined[-1][1] == UNTYPED and joined[-1][0].end == span.start \
                and span.doc.text[joined[-1][0].end_char:span.start_char] == " ":
            joined[-1] = (span.doc[joined[-1][0].start:span.end], kind)
        else:
            joined.append((span, kind))
    return joined


def _title_before_a_person(run: Any) -> bool:
    following = run.doc[run.end] if run.end < len(run.doc) else None
    return following is not None and following.ent_type_ == "PERSON" and following.ent_iob_ == "B"


def _known_word_opening(run: Any, sent: Any) -> bool:
    return len(run) == 1 and run.start == _first_word(sent) and run[0].vocab[run[0].lower_].has_vector


def _first_word(sent: Any) -> int:
    """The sentence's first token that is not punctuation (a list item's "- ", an opening quote)."""
    return next((t.i for t in sent if not t.is_punct and not t.is_space), sent.start)


def openings_named_elsewhere(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The document's sentences with each ``OPENING`` run kept as ``UNTYPED`` where another mention of the
    document holds the same word ("Sherpa" beside "Pasang Dolma Sherpa", "WHO" beside "(WHO)") and dropped
    where none does ("Coach", "Research", "Trade" open a sentence because they are its first word)."""
    words = {word for s in sentences for m in s.mentions if m.type != OPENING
             for word in re.findall(r"\w+", normalise_name(m.text))}
    return [replace(s, mentions=tuple(
        (replace(m, type=UNTYPED) if m.type == OPENING else m) for m in s.mentions
        if m.type != OPENING or normalise_name(m.text) in words)) for s in sentences]
