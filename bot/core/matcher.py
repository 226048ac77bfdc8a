"""Find the entry a question is about, with rapidfuzz, over every phrasing of every entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.normalize import normalize
from bot.core.phrases import TypoCorrector
from bot.core.synonyms import Canonicalizer
from bot.knowledge.schema import Entry

MAX_QUERY_WORDS = 60
CANDIDATES = 40


@dataclass(frozen=True)
class Match:
    """An entry and how alike the question is to its closest phrasing (0-100)."""

    entry_id: str
    score: float


def _score(query: str, phrasing: str) -> float:
    """Blend order-free word overlap with whole-string likeness.

    ``token_set_ratio`` alone gives 100 whenever one side's words are a subset of
    the other's, so a one-word question would "match" everything; averaging with
    ``token_sort_ratio`` keeps that high only when the wordings are close overall.
    """
    return 0.5 * fuzz.token_set_ratio(query, phrasing) + 0.5 * fuzz.token_sort_ratio(
        query, phrasing
    )


class Matcher:
    """An index of canonical phrasings; ``rank`` returns the best entries for a question."""

    def __init__(self, entries: Iterable[Entry], canonicalizer: Canonicalizer) -> None:
        self._canonicalizer = canonicalizer
        self._keys: list[str] = []
        self._owners: list[str] = []
        for entry in entries:
            for wording in (entry.question, *entry.phrasings):
                key = canonicalizer.key(wording)
                if key:
                    self._keys.append(key)
                    self._owners.append(entry.id)
        vocabulary = {word for key in self._keys for word in key.split()}
        self._corrector = TypoCorrector(vocabulary, vocabulary)

    def query_key(self, normalized: str) -> str:
        """The question in the form phrasings are indexed in, typos corrected."""
        words = normalized.split()[:MAX_QUERY_WORDS]
        canonical = self._canonicalizer.canonical(" ".join(words))
        content = " ".join(self._canonicalizer.content_words(canonical))
        return self._corrector.correct(content)

    def rank(self, normalized: str, limit: int) -> list[Match]:
        """The ``limit`` best entries for a normalized question, best first."""
        query = self.query_key(normalized)
        if not query:
            return []
        candidates = process.extract(
            query, self._keys, scorer=fuzz.token_set_ratio, limit=CANDIDATES, score_cutoff=40
        )
        best: dict[str, float] = {}
        for key, _, index in candidates:
            owner = self._owners[index]
            score = _score(query, key)
            if score > best.get(owner, -1.0):
                best[owner] = score
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:limit]
        return [Match(entry_id, score) for entry_id, score in ranked]

    def complete(self, partial: str, questions: dict[str, str], limit: int) -> list[str]:
        """Entry ids whose question best fits what a member has typed so far."""
        typed = normalize(partial)
        if not typed:
            return list(questions)[:limit]
        found = process.extract(
            typed, questions, scorer=fuzz.partial_ratio, processor=normalize, limit=limit
        )
        return [entry_id for _, _, entry_id in found]
