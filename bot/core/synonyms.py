"""Map the words members use onto the words the knowledge base uses.

"special k", "ket" and "ketamin" all become "ketamine" before matching, so one
phrasing in an entry covers every way of saying it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from bot.core.normalize import normalize

# The Snowball English stemmer in C (PyStemmer): the same stems as the pure-Python
# snowballstemmer on every word of the corpora and knowledge base, about 30 times faster,
# and start-up folds every wording in the base.
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """Fold word endings ("blocks", "blocked" -> "block") so forms of a word compare equal."""
    return _STEMMER.stemWord(word)


@dataclass(frozen=True)
class Reading:
    """A knowledge wording in the three forms the checks and the index compare."""

    normalized: str
    canonical: str  # synonyms replaced by their canonical words
    key: str  # canonical, filler dropped, endings folded


class Canonicalizer:
    """Rewrite normalized text into canonical words, and pick out its content words."""

    def __init__(self, synonyms: Mapping[str, Iterable[str]], ignore_words: Iterable[str]) -> None:
        replacements: dict[str, str] = {}
        for canonical, variants in synonyms.items():
            target = normalize(canonical)
            for variant in variants:
                replacements[normalize(variant)] = target
        self._replacements = replacements
        alternatives = sorted((re.escape(v) for v in replacements if v), key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<!\S)(?:" + "|".join(alternatives) + r")(?!\S)")
            if alternatives
            else None
        )
        self._ignored = frozenset(normalize(word) for word in ignore_words)
        self._readings: dict[str, Reading] = {}

    def canonical(self, normalized: str) -> str:
        """Replace every known variant (longest first) by its canonical word."""
        if self._pattern is None:
            return normalized
        return self._pattern.sub(lambda match: self._replacements[match.group(0)], normalized)

    def surface_words(self, canonical: str) -> list[str]:
        """The words that are not filler ("the", "does", "u"), endings kept."""
        return [word for word in canonical.split() if word not in self._ignored]

    def content_words(self, canonical: str) -> list[str]:
        """Drop filler words ("the", "does", "u"), then fold the endings of the rest."""
        return [stem(word) for word in self.surface_words(canonical)]

    def key(self, text: str) -> str:
        """The form two phrasings are compared in: normalized, canonical, no filler, stemmed."""
        return self.read(text).key

    def read(self, text: str) -> Reading:
        """A knowledge wording's forms, worked out once per wording.

        The loader's checks, the matcher's index and each fold of the answer check's
        training all read every wording of the base. Only the base's own texts come here,
        never members' messages, so what is kept stays the size of the base.
        """
        reading = self._readings.get(text)
        if reading is None:
            normalized = normalize(text)
            canonical = self.canonical(normalized)
            reading = Reading(normalized, canonical, self.canonical_key(canonical))
            self._readings[text] = reading
        return reading

    def canonical_key(self, canonical: str) -> str:
        """``key`` of a text already normalized and made canonical (the index has both)."""
        return " ".join(self.content_words(canonical))
