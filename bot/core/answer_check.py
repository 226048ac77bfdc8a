"""Whether the best-ranked entry really answers the question, learned rather than banded.

A fixed score band answers any question that shares enough words with an entry, so a
question on a topic nobody listed as not covered ("how long does ketamine stay in your
system") gets the entry it resembles. The check reads the ranking's scores for each of the
top entries (their words, meaning, lead, how close a not-covered topic came) and gives the
probability that each is the right answer; the bot answers with the likeliest only when
it clears the trained threshold. It was fitted on labelled questions and on knowledge
wordings held out of the index (``bot/training/answers.py``), so it has seen what a
question from an unlisted topic looks like to the ranking.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from bot.core.detector import dense_layers, forward
from bot.core.ranking import Ranking
from bot.core.semantic import SemanticIndex
from bot.knowledge.schema import ANSWER_FEATURES as FEATURES
from bot.knowledge.schema import AnswerCheckFile

CHECKED = 8  # entries the check weighs: the best by the blended ranking


def candidate_features(
    ranking: Ranking,
    semantic: SemanticIndex | None,
    vector: np.ndarray | None,
    not_covered: Collection[str],
    length: int,
) -> tuple[list[str], np.ndarray]:
    """The entries worth checking, best first, and one row of ``FEATURES`` for each.

    The row's order is the model file's contract (``ANSWER_FEATURES`` in the schema says
    what each value is); a file that names other features does not load.
    """
    blended = {match.entry_id: match.score for match in ranking.blended}
    entries = [m.entry_id for m in ranking.blended if m.entry_id not in not_covered][:CHECKED]
    if not entries:
        return [], np.zeros((0, len(FEATURES)), dtype=np.float32)
    top = ranking.blended[0].score
    best_topic = max((blended[owner] for owner in blended if owner in not_covered), default=0.0)
    means = {}
    if semantic is not None and vector is not None:
        means = semantic.to_means(vector, entries)
    rows = []
    for position, entry in enumerate(entries):
        score = blended[entry]
        other = entries[1] if position == 0 else entries[0]
        rows.append(
            [
                score,
                ranking.words.get(entry, 0.0),
                ranking.meaning.get(entry, 0.0),
                position,
                top - score,
                score - blended[other] if other != entry else score,
                best_topic,
                score - best_topic,
                ranking.information,
                means.get(entry, 0.0),
                length,
            ]
        )
    return entries, np.asarray(rows, dtype=np.float32)


class AnswerCheck:
    """The trained check: the likeliest entry and its probability of being the answer."""

    def __init__(self, spec: AnswerCheckFile) -> None:
        """``spec`` reads ``FEATURES`` in order: the loader refuses a file that does not."""
        self.threshold = spec.threshold
        self._layers = dense_layers(spec.layers)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """One probability per row of ``candidate_features``."""
        if not len(features):
            return np.zeros(0)
        return forward(self._layers, features)

    def best(self, entries: list[str], features: np.ndarray) -> tuple[str, float] | None:
        """The likeliest entry and its probability, or ``None`` with no candidate."""
        if not entries:
            return None
        probabilities = self.probabilities(features)
        index = int(np.argmax(probabilities))
        return entries[index], float(probabilities[index])
