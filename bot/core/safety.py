"""Safety comes before matching: crisis, then an uncertain check-in, then personal advice.

Trained detectors over the message's sentence vector decide (``knowledge/models/``);
a short floor of unmistakable phrases in ``safety.yaml`` catches what no model may
miss, in any language the floor lists. The thresholds live with the weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from bot.core.detector import Detector
from bot.core.phrases import PhraseSet, TypoCorrector, phrase_words
from bot.knowledge.schema import AdviceTopic, DetectorFile, SafetyFile


class Concern(str, Enum):
    """Why a message must not get an ordinary answer straight away."""

    CRISIS = "crisis"
    CHECK_IN = "check_in"
    ADVICE = "advice"


@dataclass(frozen=True)
class SafetyVerdict:
    """What the screen found, and how sure the detector was (``None``: the phrase floor).

    ``topic`` is set when the message is personal medical advice: for an advice verdict,
    and for a check-in whose message is also advice, so that "No, I was asking about
    something else" can lead to the advice reply rather than to an answer.
    """

    concern: Concern
    score: float | None = None
    topic: AdviceTopic | None = None


class SafetyCheck:
    """Screen one message: its normalized words and its sentence vector."""

    def __init__(
        self,
        safety: SafetyFile,
        detectors: Mapping[str, DetectorFile],
        known_words: Iterable[str],
        models: Path | None = None,
    ) -> None:
        self._floor = PhraseSet(safety.crisis.phrases)
        self._crisis = Detector(detectors["crisis"], models)
        self._advice = Detector(detectors["advice"], models)
        self._topics = [(topic, PhraseSet(topic.phrases)) for topic in safety.advice.topics]
        targets = phrase_words(safety.crisis.phrases)
        self._corrector = TypoCorrector(targets, known_words)

    def check(
        self, normalized: str, windows: Sequence[str], vectors: np.ndarray
    ) -> SafetyVerdict | None:
        """A verdict when the message needs a safety reply, else ``None``.

        ``windows`` are the message as the encoder read it (a long one in several parts)
        and ``vectors`` their sentence vectors: the most worrying window counts for
        crisis, the first one for advice (a question comes first).
        """
        if normalized and self._floor.find(self._corrector.correct(normalized)):
            return SafetyVerdict(Concern.CRISIS)
        if not windows:
            return None
        crisis = float(self._crisis.probabilities(windows, vectors).max())
        if crisis >= self._crisis.thresholds["crisis"]:
            return SafetyVerdict(Concern.CRISIS, crisis)
        advice = float(self._advice.probabilities(windows[:1], vectors[:1])[0])
        topic = self._topic(normalized) if advice >= self._advice.thresholds["advice"] else None
        if crisis >= self._crisis.thresholds["check_in"]:
            # An uncertain crisis signal wins over advice: the advice reply carries no
            # resources, and crisis messages often read as advice too ("how much would it take").
            return SafetyVerdict(Concern.CHECK_IN, crisis, topic)
        if topic is not None:
            return SafetyVerdict(Concern.ADVICE, advice, topic)
        return None

    def _topic(self, normalized: str) -> AdviceTopic:
        """The first topic whose words the question uses; the last topic catches the rest."""
        for topic, phrases in self._topics:
            if phrases.find(normalized):
                return topic
        return self._topics[-1][0]
