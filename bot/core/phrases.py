"""Find moderator-written phrases in a message, forgiving small typos.

Phrase syntax (documented for moderators in ``safety.yaml``): words separated by
spaces; ``*`` alone stands for up to three words; ``word*`` matches any ending.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.normalize import normalize

MAX_GAP_WORDS = 3
MIN_TYPO_LENGTH = 5


def _compile(phrase: str) -> str:
    parts = []
    for word in phrase.split():
        if word == "*":
            parts.append(rf"(?:\S+ ){{0,{MAX_GAP_WORDS}}}")
        elif word.endswith("*"):
            parts.append(re.escape(normalize(word[:-1])) + r"\S* ")
        else:
            parts.append(re.escape(normalize(word)) + " ")
    return "".join(parts)


def phrase_words(phrases: Iterable[str]) -> set[str]:
    """The plain words the phrases are built from (wildcards left out)."""
    return {normalize(word) for phrase in phrases for word in phrase.split() if "*" not in word}


class PhraseSet:
    """A group of phrases compiled into one regular expression."""

    def __init__(self, phrases: Iterable[str]) -> None:
        phrases = [phrase for phrase in phrases if normalize(phrase.replace("*", ""))]
        patterns = [_compile(phrase) for phrase in phrases]
        self._regex = re.compile(r"(?<!\S)(?:" + "|".join(patterns) + ")") if patterns else None
        first_words = [phrase.split()[0] for phrase in phrases]
        # When every phrase starts with a plain word, a message without any of those
        # words cannot match: a set lookup saves running the expression at all.
        self.first_words: frozenset[str] | None = (
            frozenset(normalize(word) for word in first_words)
            if all("*" not in word for word in first_words)
            else None
        )

    def could_match(self, words: frozenset[str]) -> bool:
        """False only when the phrase set certainly does not occur in a text of ``words``."""
        return self.first_words is None or not self.first_words.isdisjoint(words)

    def find(self, text: str) -> re.Match[str] | None:
        """The first phrase in ``text`` (normalized, typo-corrected words)."""
        return self._regex.search(text + " ") if self._regex else None

    def remove(self, text: str) -> str:
        """``text`` with every phrase of this set blanked out."""
        return self._regex.sub(" ", text + " ") if self._regex else text


class TypoCorrector:
    """Replace a misspelt word by the known word it is one edit away from.

    Only words of ``min_length`` letters or more are corrected, and only towards the
    ``targets`` vocabulary; words in ``known`` are never changed, so ordinary
    words are not bent into alarming ones.
    """

    def __init__(
        self, targets: Iterable[str], known: Iterable[str], min_length: int = MIN_TYPO_LENGTH
    ) -> None:
        self._min_length = min_length
        self._targets = sorted(word for word in set(targets) if len(word) >= min_length)
        self._known = set(known) | set(self._targets)
        self._cache: dict[str, str] = {}

    def correct(self, text: str) -> str:
        """Return ``text`` (normalized) with each correctable word replaced."""
        return " ".join(self._correct_word(word) for word in text.split())

    def _correct_word(self, word: str) -> str:
        if len(word) < self._min_length or word in self._known or not self._targets:
            return word
        cached = self._cache.get(word)
        if cached is None:
            best = process.extractOne(word, self._targets, scorer=OSA.distance, score_cutoff=1)
            cached = best[0] if best else word
            if len(self._cache) < 50_000:
                self._cache[word] = cached
        return cached
