"""Which values may fill a date slot: a date, not an age, a duration or a bare number.

spaCy types "24" (an age), "two-year", "Monday" and "about 1,200" as DATE or CARDINAL; paired with a
person they became ``born_on`` edges. A DATE mention may fill a date slot only when it names a calendar
date or year: a month name, a year from 1000 to 2099, or a numeric date (3/5/2020, 2020-03-05, 05.03.2020).
"""

from __future__ import annotations

import re

_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATE_LIKE = re.compile(
    rf"\b(?:{_MONTH})\b\.?"  # a month name
    r"|(?<![\d,.])(?:1\d{3}|20\d{2})(?![\d,])s?"  # a year (1000-2099), or a decade such as 1990s
    r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b",  # a numeric date
    re.IGNORECASE)
_DURATION = re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ](?:year|month|week|day)s?\b",
                       re.IGNORECASE)


def date_like(text: str) -> bool:
    """Whether a DATE mention names a calendar date or year (see the module's description)."""
    return bool(_DATE_LIKE.search(text)) and not _DURATION.search(text)


_BARE_YEAR = re.compile(r"(?:1\d{3}|20\d{2})")
_YEAR_PREPOSITION = re.compile(r"\b(?:in|since|from|until|till|by|before|after|of)\s+$", re.IGNORECASE)


def year_taken_for_a_number(text: str, type_: str, before: str) -> bool:
    """Whether spaCy's CARDINAL is a year: four digits from 1000 to 2099 after a preposition of time ("founded
    in 2017", "since 1999"), which spaCy's medium model often types as a number; "1500 workers" stays one."""
    return type_ == "CARDINAL" and bool(_BARE_YEAR.fullmatch(text)) and bool(_YEAR_PREPOSITION.search(before))
