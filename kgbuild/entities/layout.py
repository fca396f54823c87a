"""News layout: headlines, datelines, bylines and list items are segments of their own.

spaCy's sentence splitter reads "Acme names new chief\\n\\nBOSTON, March 3, 2025 - Acme said ..." as one
sentence, so the headline's and the dateline's names were paired with the first sentence's: a person
``lives_in`` the dateline city, the dateline city typed ORG and ``org_based_in`` three places. A blank
line therefore always ends a segment, and so does a line break before a list item; a dateline at the
start of a segment ("LONDON, 3 March (Reuters) —", "BOSTON - ") is cut off as a segment of its own. Its
credit ("(Reuters)") belongs to no segment: the agency that filed the story is not a fact of it, and was
paired as ``org_based_in`` the dateline's city.
"""

from __future__ import annotations

import re

# A blank line; or a line break before a list item ("- ", "* ", "• ", "1. ", "2) ").
_BREAK = re.compile(r"\n[ \t]*\n\s*|\n[ \t]*(?=(?:[-*\u2022]|\d{1,3}[.)])[ \t])")
# Upper-case letters of the Latin, Greek and Cyrillic scripts: "REYKJAVÍK", "ŁÓDŹ", "ΑΘΗΝΑ" head datelines too.
_UPPER = "".join(ch for ch in map(chr, range(0x41, 0x530)) if ch.isupper())
# An upper-case place, optional ", date or place" and "(Agency)", then a dash: "LONDON, 3 March (Reuters) —".
_DATELINE = re.compile(
    rf"^(?:[{_UPPER}][{_UPPER}.'\u2019-]+(?:[ ][{_UPPER}][{_UPPER}.'\u2019-]+){{0,3}})"
    r"(?:,[^\n,\u2013\u2014()-]{1,30}){0,2}(?P<credit>[ ]?\([^)\n]{1,30}\))?"
    r"[ \t]*(?:-{1,2}|\u2013|\u2014)(?:[ \t]+|$)")  # spaCy may have ended the sentence at the dash
_BYLINE = re.compile(r"^By [A-Z][^\n]{0,60}$")


def layout_segments(text: str, starts_line: bool = False) -> list[tuple[int, int]]:
    """``(start, end)`` spans of ``text`` (one spaCy sentence) that are segments of their own, in order;
    whitespace between them belongs to none. A plain sentence is one span. ``starts_line``: the sentence
    begins the document or a line, where any dateline may stand."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BREAK.finditer(text):
        spans += _dateline_split(text, start, match.start(), after_break=starts_line or start > 0)
        start = match.end()
    spans += _dateline_split(text, start, len(text), after_break=starts_line or start > 0)
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _dateline_split(text: str, start: int, end: int, after_break: bool) -> list[tuple[int, int]]:
    """A dateline at the very start of a spaCy sentence must carry a date, place or agency after a comma
    or in brackets: "NASA - the agency said" mid-paragraph is a sentence, not a dateline."""
    block = text[start:end]
    first_line = block.split("\n", 1)[0]
    if _BYLINE.match(first_line) and len(first_line) < len(block):
        cut = start + len(first_line)
        return [(start, cut), *_dateline_split(text, cut + 1, end, after_break=True)]
    match = _DATELINE.match(block)
    if match is None or not (after_break or re.search(r"[,(]", match.group())):
        return [(start, end)]
    place_and_date = block[:match.start("credit")] if match.group("credit") else match.group()
    dateline_end = start + len(place_and_date.rstrip(" \t-\u2013\u2014"))
    rest = start + match.end()
    return [(start, dateline_end), *([(rest, end)] if rest < end else [])]


def paragraph_break(text: str, end: int, start: int) -> bool:
    """Whether the gap ``text[end:start]`` between two sentences starts a new block: a blank line, a line break
    before a list item, or a gap too wide to be the space between sentences of one paragraph."""
    if start - end > 40:
        return True
    return _BREAK.search(text[end:start + 4]) is not None
