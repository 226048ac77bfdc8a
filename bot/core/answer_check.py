"""Whether the best-ranked entry really answers the question, learned rather than banded.

A fixed score band answers any question that shares enough words with an entry, so a
question on a topic nobody listed as not covered ("how long does ketamine stay in your
system") gets the entry it resembles. The check reads the ranking's scores for each of the
top entries (their words, meaning, lead, how close a not-covered topic came) and gives the
probability that each is the right answer; the bot answers with the likeliest only when
it clears the trained threshold. It was fitted on labelled questions and on knowledge
wordings held out of the index (``bot/training/answers.py``), so it has seen what a
question from an unlisted topic looks like to the ranking.

It also reads how the labelled questions nearest in meaning were answered
(``PastQuestions``): a question beside a crowd of not-covered ones ("can ketamine wreck
your bladder") is doubted even when an entry shares its words. Leaving the sixteenth
round out of what it learned from, the check with this vote answered 93.9% of that round's
in-scope questions right against 91.1% without, and left 78.0% of the others unanswered
against 76.3% (the fifteenth round, left out the same way: 94.8% against 89.0%, 91.3% both).

And it reads how much of the question the entry's own words explain (``Matcher.coverage``):
a question that repeats an entry's facts to ask a detail the article never gives ("the shot
goes in a muscle, but which one") shares most words with the entry, yet its rarest word
with none. Leaving each of rounds 15 to 17 out in turn (``benchmarks/answer_check_rounds.
py``), these features left 85.1% / 89.8% / 94.5% of the round's other questions unanswered
against 79.8% / 86.4% / 94.5% without them, with right entries 93.8% / 97.2% / 92.4%
against 93.8% / 95.0% / 93.6%, and fewer wrong answers in each round.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np

from bot.core.detector import dense_layers, forward
from bot.core.neighbours import load_pinned, nearest
from bot.core.ranking import Ranking
from bot.core.semantic import SemanticIndex
from bot.knowledge.schema import ANSWER_FEATURES as FEATURES
from bot.knowledge.schema import COVERAGE_FEATURES, PAST_FEATURES, AnswerCheckFile, NeighbourRef

CHECKED = 8  # entries the check weighs: the best by the blended ranking
UNANSWERED = ""  # a past question's owner when it was not covered or off-topic

# The past questions' columns for each candidate entry, given the entries in ranked order.
PastRows = Callable[[list[str]], np.ndarray]
# The coverage columns (``Matcher.coverage`` for the question), given the same entries.
CoverageRows = Callable[[list[str]], list[tuple[float, ...]]]


class PastQuestions:
    """Labelled member questions, by meaning: what the nearest ones were answered with.

    ``owners`` holds each question's entry id, or ``UNANSWERED``. Training passes
    ``folds`` and hides a question's own fold from it, so the check never learns from a
    vote that already knows the answer; the bot's vote reads every stored question.
    """

    def __init__(
        self, vectors: np.ndarray, owners: np.ndarray, k: int, folds: np.ndarray | None = None
    ) -> None:
        self.vectors = vectors.astype(np.float32, copy=False)  # unpacked as float32 already
        self.owners = owners
        self.k = k
        self._folds = folds

    @classmethod
    def load(cls, models: Path, ref: NeighbourRef) -> PastQuestions:
        """The stored questions a check file names, once their file is the one it names."""
        stored = load_pinned(models, ref.file, ref.sha256)
        return cls(stored["vectors"], stored["owners"], ref.k)

    def rows(
        self, vector: np.ndarray, entries: list[str], hide_fold: int | None = None
    ) -> np.ndarray:
        """One row of ``PAST_FEATURES`` per entry, in the order given.

        The entry's weighted share of the nearest questions, the share left unanswered,
        and the closest cosine of each.
        """
        hidden = None if hide_fold is None or self._folds is None else self._folds == hide_fold
        rows, closeness, weights = nearest(self.vectors, vector, self.k, hidden)
        owners, closeness, weights = self.owners[rows[0]], closeness[0], weights[0]
        total = weights.sum()
        unanswered = owners == UNANSWERED
        closest_unanswered = closeness[unanswered].max() if unanswered.any() else 0.0
        table = []
        for entry in entries:
            mine = owners == entry
            table.append(
                [
                    weights[mine].sum() / total,
                    weights[unanswered].sum() / total,
                    closeness[mine].max() if mine.any() else 0.0,
                    closest_unanswered,
                ]
            )
        return np.asarray(table, dtype=np.float32).reshape(len(entries), len(PAST_FEATURES))


def candidate_features(
    ranking: Ranking,
    semantic: SemanticIndex | None,
    vector: np.ndarray | None,
    not_covered: Collection[str],
    length: int,
    coverage: CoverageRows,
    past: PastRows | None = None,
) -> tuple[list[str], np.ndarray]:
    """The entries worth checking, best first, and one row of ``FEATURES`` for each.

    The row's order is the model file's contract (``ANSWER_FEATURES`` in the schema says
    what each value is); a file that names other features does not load. Without ``past``
    (a check file with no past questions) their columns are zero.
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
    table = np.hstack(
        [
            np.asarray(rows, dtype=np.float32),
            np.asarray(coverage(entries), dtype=np.float32).reshape(-1, len(COVERAGE_FEATURES)),
        ]
    )
    voted = past(entries) if past is not None else np.zeros((len(entries), len(PAST_FEATURES)))
    return entries, np.hstack([table, voted]).astype(np.float32)


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
