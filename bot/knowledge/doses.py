"""What counts as a dose in a knowledge-base answer: an amount, in digits or in words, and a unit.

The bot never states a dose (it is not medical advice), so ``validate`` refuses an answer
that does. Moderators write prose, so "half a milligram per kilogram", "two milligrams"
and "point five mg/kg" must be caught as surely as "0.5 mg/kg".
"""

from __future__ import annotations

import re

_NUMBER_WORDS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|thousand|half|halves|quarters?|thirds?|dozen|single|couple|few|"
    "several|point"
)
_AMOUNT = rf"(?:\d+(?:[.,]\d+)?|\.\d+|(?:{_NUMBER_WORDS}))"
# words that may sit inside an amount: "one and a half", "half a", "a couple of", "point five"
_JOINER = rf"(?:a|an|and|of|{_NUMBER_WORDS}|\d+)"
_UNIT = (
    r"(?:mg|mgs|milligram(?:me)?s?|mcg|µg|ug|microgram(?:me)?s?|ml|mls|"
    r"millilit(?:er|re)s?|cc)"
)
_PER_WEIGHT = r"(?:\s*/\s*|\s+per\s+)(?:kg|kilo(?:gram(?:me)?)?s?)"

DOSE = re.compile(
    rf"\b{_AMOUNT}(?:[\s-]+{_JOINER})*[\s-]*{_UNIT}\b"  # an amount and a unit
    rf"|\b{_UNIT}{_PER_WEIGHT}\b",  # "mg/kg", "milligrams per kilogram": a dosing rate
    re.IGNORECASE,
)


def states_dose(text: str) -> bool:
    """Whether ``text`` gives an amount of a medicine (or a per-weight dosing rate)."""
    return DOSE.search(text) is not None
