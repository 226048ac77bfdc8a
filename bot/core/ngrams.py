"""A learned word and character n-gram model: the second opinion beside the encoder.

Slang, typos and code words ("kms", "ctb", "sewerslide") are spelled out letter by
letter, and MiniLM's word pieces blur them; character n-grams keep them. The weights
are learned by ``python -m bot.training`` (scikit-learn's TfidfVectorizer and logistic
regression) and stored in the detector file; this module reproduces that vectorizer's
arithmetic exactly (a test compares the two), so the bot needs no scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

from bot.knowledge.schema import NgramAnalyzer, NgramHead

_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_WHITE_SPACES = re.compile(r"\s\s+")


def _word_ngrams(text: str, low: int, high: int) -> Iterator[str]:
    tokens = _WORD.findall(text)
    for size in range(low, high + 1):
        for start in range(len(tokens) - size + 1):
            yield " ".join(tokens[start : start + size])


def _char_wb_ngrams(text: str, low: int, high: int) -> Iterator[str]:
    """Character n-grams inside word boundaries, padded with one space each side."""
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        for size in range(low, high + 1):
            if len(padded) <= size:
                yield padded  # a word no longer than the n-gram counts once, then stops
                break
            for start in range(len(padded) - size + 1):
                yield padded[start : start + size]


def _score(analyzer: NgramAnalyzer, text: str) -> float:
    """The analyzer's share of the decision: tf-idf (sublinear, l2-normalized) · weights."""
    grams = (
        _word_ngrams(text, analyzer.min_n, analyzer.max_n)
        if analyzer.analyzer == "word"
        else _char_wb_ngrams(text, analyzer.min_n, analyzer.max_n)
    )
    counts = Counter(gram for gram in grams if gram in analyzer.terms)
    if not counts:
        return 0.0
    values = {
        gram: (1.0 + math.log(count)) * analyzer.terms[gram][0] for gram, count in counts.items()
    }
    norm = math.sqrt(sum(value * value for value in values.values()))
    return sum(value * analyzer.terms[gram][1] for gram, value in values.items()) / norm


class NgramModel:
    """Probability from the n-gram head for one text."""

    def __init__(self, head: NgramHead) -> None:
        self._head = head

    def probability(self, text: str) -> float:
        """Lowercased as scikit-learn does, then each analyzer's score, summed."""
        lowered = text.lower()
        decision = self._head.bias + sum(
            _score(analyzer, lowered) for analyzer in self._head.analyzers
        )
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, decision))))
