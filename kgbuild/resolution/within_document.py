"""Aliases found inside one document, where the same spelling almost always means the same entity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kgbuild.resolution.names import NAME_TYPES, is_acronym_of, is_short_form_of, looks_like_acronym
from kgbuild.types import Alias, Sentence, entity_key, normalise_name, strip_article


@dataclass(frozen=True)
class _Name:
    spelling: str  # the first spelling seen for this key
    type: str
    key: str
    first: int  # order of first appearance in the document
    headline: bool = False  # first seen in the document's headline (a first segment without a full stop)


def document_aliases(doc_id: str, sentences: Sequence[Sentence]) -> list[Alias]:
    """One decision per spelling that names an entity by another name in this document.

    A link is made only when exactly one full name fits: "Miller" next to both "John Miller" and "Sarah
    Miller" stays on its own. A short form comes after its full name, except a surname in the headline
    ("Okafor to lead ..." above "Grace Okafor was named ..."). Pronouns and descriptions are not names
    here (their links are :mod:`kgbuild.entities.references`'s).
    """
    names: dict[str, _Name] = {}
    spellings: dict[str, set[str]] = {}
    for position, sentence in enumerate(sentences):
        headline = position == 0 and not sentence.text.rstrip().endswith((".", "!", "?", '"', "”"))
        for mention in sentence.mentions:
            if mention.type not in NAME_TYPES or not mention.text.strip() or mention.link:
                continue
            key = entity_key(mention.text, mention.type)
            names.setdefault(key, _Name(mention.text.strip(), mention.type, key, len(names), headline))
            spellings.setdefault(key, set()).add(mention.text.strip())
    everyone = list(names.values())
    targets = {key: _target(name, everyone) for key, name in names.items()}
    aliases = []
    for key, name in names.items():
        target = _final(key, targets)
        reason = "article" if target is None else "acronym" if looks_like_acronym(name.spelling) else "short_form"
        canonical = strip_article((target or name).spelling)
        aliases += [Alias(spelling, name.type, canonical, reason, 1.0, doc_id) for spelling in sorted(spellings[key])
                    if normalise_name(spelling) != normalise_name(canonical)]
    return aliases


def _target(name: _Name, names: Sequence[_Name]) -> _Name | None:
    """The one fuller name this name stands for, or None."""
    others = [n for n in names if n.type == name.type and n.key != name.key]
    if looks_like_acronym(name.spelling):
        found = {n.key: n for n in others if is_acronym_of(name.spelling, n.spelling)}
    else:
        # after the full name; a headline's surname may come first ("Okafor to lead ..."), but a place spaCy
        # took for a person in the body ("Zermatt" before "Air Zermatt") may not
        found = {n.key: n for n in others if (n.first < name.first or name.headline and name.type == "PERSON")
                 and is_short_form_of(name.spelling, n.spelling, name.type)}
    return next(iter(found.values())) if len(found) == 1 else None


def _final(key: str, targets: dict[str, _Name | None]) -> _Name | None:
    """Follow links to their end: "Wanjiru" → "Grace Wanjiru" → (none further)."""
    target, seen = targets[key], {key}
    while target is not None and targets.get(target.key) is not None and target.key not in seen:
        seen.add(target.key)
        target = targets[target.key]
    return target
