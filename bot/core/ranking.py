"""The entries a question might mean, by shared words and shared meaning.

One function, used by the bot and by the training that learns when to answer
(``bot/training/answers.py``), so the answer check is fitted on exactly the scores it
will read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from bot.core.matcher import Match, Matcher
from bot.core.semantic import SemanticIndex
from bot.knowledge.schema import Matching

CANDIDATES = 20  # entries each view (words, meaning) puts forward for the blended ranking


@dataclass(frozen=True)
class Ranking:
    """The blended ranking, best first, and the two views it blends."""

    blended: list[Match]
    words: dict[str, float]  # rapidfuzz's score per candidate (0-100)
    meaning: dict[str, float]  # best cosine to one of the candidate's wordings (0-100)
    information: float  # how much the question says (``Matcher.information``)


def rank(
    matcher: Matcher,
    semantic: SemanticIndex | None,
    normalized: str,
    vectors: np.ndarray,
    semantic_share: float,
) -> Ranking:
    """Shared words (rapidfuzz) blended with shared meaning (the question's first vector)."""
    lexical = matcher.rank(normalized, CANDIDATES)
    words = {match.entry_id: match.score for match in lexical}
    information = matcher.information(normalized)
    if semantic is None or not len(vectors) or semantic_share == 0:
        return Ranking(lexical, words, {}, information)
    meaning = semantic.scores(vectors[0], words, CANDIDATES)
    # A question that says little ("ketamine") is close in meaning to many wordings:
    # the less it says, the more its score rests on shared words alone.
    share = semantic_share * information
    blended = [
        Match(owner, (1 - share) * words.get(owner, 0.0) + share * score)
        for owner, score in meaning.items()
    ]
    blended.sort(key=lambda match: match.score, reverse=True)
    return Ranking(blended, words, meaning, information)


def clears_bands(ranking: Ranking, settings: Matching) -> bool:
    """Whether the best owner scores in the answer band, or clearly beats the next."""
    ranked = ranking.blended
    if not ranked:
        return False
    lead = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
    clear_winner = ranked[0].score >= settings.clear_lead_at and lead >= settings.clear_lead
    return ranked[0].score >= settings.answer_at or clear_winner


def banded_answer(ranking: Ranking, settings: Matching, topics: Collection[str]) -> str | None:
    """The entry the score bands alone would answer with (no answer check), if any."""
    best = ranking.blended[0] if ranking.blended else None
    if best is None or best.entry_id in topics or not clears_bands(ranking, settings):
        return None
    return best.entry_id


def shares_words(ranking: Ranking, settings: Matching) -> bool:
    """Whether the best owner is near enough, by its words too, to be offered as a choice."""
    best = ranking.blended[0] if ranking.blended else None
    return (
        best is not None
        and best.score >= settings.clarify_at
        and ranking.words.get(best.entry_id, 0.0) >= settings.clarify_words_at
    )


def found_topic(ranking: Ranking, settings: Matching, topics: Collection[str]) -> str | None:
    """The not-covered topic the ranking puts first, when it is close enough to say so.

    A topic a moderator listed wins over any entry that ranks below it: the honest "the
    article does not cover this" is what they wrote it for.
    """
    best = ranking.blended[0] if ranking.blended else None
    if best is None or best.entry_id not in topics:
        return None
    return (
        best.entry_id
        if shares_words(ranking, settings) or clears_bands(ranking, settings)
        else None
    )


def settled_before_check(
    matcher: Matcher,
    ranking: Ranking,
    settings: Matching,
    topics: Collection[str],
    normalized: str,
) -> str | None:
    """The reply's owner when it is decided before the answer check is asked, else ``None``.

    A wording says where the message goes (``Matcher.written_for``: its entry or topic); a
    listed not-covered topic takes it (``found_topic``: the topic); or it says too little
    to name an entry (``Matcher.says_too_little``: ``""``, a choice of entries). The check
    is trained without these.
    """
    written_for = matcher.written_for(normalized)
    if written_for is not None:
        return written_for
    topic = found_topic(ranking, settings, topics)
    if topic is not None:
        return topic
    return "" if matcher.says_too_little(normalized) else None
