"""Safety comes before matching: crisis language first, then personal medical questions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.phrases import PhraseSet, TypoCorrector, phrase_words
from bot.knowledge.schema import AdviceTopic, SafetyFile


@dataclass(frozen=True)
class SafetyVerdict:
    """Why a message must not get an ordinary answer."""

    crisis: bool
    topic: AdviceTopic | None = None


class SafetyCheck:
    """Classify a normalized message as crisis, personal advice, or neither."""

    def __init__(self, safety: SafetyFile, known_words: Iterable[str]) -> None:
        crisis = safety.crisis
        self._crisis = PhraseSet(crisis.phrases)
        self._not_personal = PhraseSet(crisis.not_personal)
        self._topics = [(topic, PhraseSet(topic.phrases)) for topic in safety.advice.topics]
        targets = phrase_words(crisis.phrases)
        for topic in safety.advice.topics:
            targets |= phrase_words(topic.phrases)
        self._corrector = TypoCorrector(targets, known_words)

    def check(self, normalized: str) -> SafetyVerdict | None:
        """Return a verdict when the message needs a safety reply, else ``None``."""
        if not normalized:
            return None
        text = self._corrector.correct(normalized)
        if self._crisis.find(self._not_personal.remove(text)):
            return SafetyVerdict(crisis=True)
        for topic, phrases in self._topics:
            if phrases.find(text):
                return SafetyVerdict(crisis=False, topic=topic)
        return None
