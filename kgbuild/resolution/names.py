"""How two spellings of one name relate: acronym, short form, or the same name with an article."""

from __future__ import annotations

import re

from kgbuild.types import normalise_name, strip_article

# Types whose mentions are names; dates, amounts and ordinals are never merged.
NAME_TYPES = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})
_CONNECTIVES = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "für", "der", "&", "on", "in"})
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,8}$|^[A-Z][A-Za-z]?(?:[A-Z][a-z]?){1,6}$")
_WORD = re.compile(r"[\w'’-]+")


def tokens(name: str) -> list[str]:
    return _WORD.findall(normalise_name(strip_article(name)))


def looks_like_acronym(spelling: str) -> bool:
    """"ESA", "U.N.", "NASA", "DfE": two or more capitals, no spaces, mostly upper case."""
    text = spelling.strip()
    upper = sum(c.isupper() for c in text)
    return bool(_ACRONYM.match(text)) and upper >= 2 and upper >= len(text.replace(".", "")) / 2


def initials(name: str) -> str:
    """First letters of the name's significant words: "European Space Agency" → "esa"."""
    words = [w for w in _WORD.findall(strip_article(name)) if w.casefold() not in _CONNECTIVES]
    return "".join(w[0] for w in words).casefold()


def is_acronym_of(acronym: str, full: str) -> bool:
    letters = acronym.replace(".", "").casefold()
    return looks_like_acronym(acronym) and len(tokens(full)) >= 2 and initials(full) == letters


def is_short_form_of(short: str, full: str, type_: str) -> bool:
    """A person's surname(s) ("Aschbacher" of "Josef Aschbacher"), or the first words of an organisation's
    name ("Pesa" of "Pesa Labs"). Other types are left alone: "Manchester" is not "Manchester City"."""
    part, whole = tokens(short), tokens(full)
    if not part or len(part) >= len(whole):
        return False
    if type_ == "PERSON":
        return whole[-len(part):] == part
    if type_ == "ORG":
        return whole[:len(part)] == part and not looks_like_acronym(short)
    return False
