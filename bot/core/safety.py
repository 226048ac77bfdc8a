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
        self._warning_signs = [PhraseSet([sign]) for sign in crisis.warning_signs]
        self._signs_needed = crisis.warning_signs_needed
        self._not_personal = PhraseSet(crisis.not_personal)
        self._topics = [(topic, PhraseSet(topic.phrases)) for topic in safety.advice.topics]
        targets = phrase_words(crisis.phrases) | phrase_words(crisis.warning_signs)
        for topic in safety.advice.topics:
            targets |= phrase_words(topic.phrases)
        self._corrector = TypoCorrector(targets, known_words)

    def check(self, normalized: str) -> SafetyVerdict | None:
        """Return a verdict when the message needs a safety reply, else ``None``."""
        if not normalized:
            return None
        text = self._corrector.correct(normalized)
        personal = self._not_personal.remove(text)
        if self._crisis.find(personal) or self._count_warning_signs(personal) >= self._signs_needed:
            return SafetyVerdict(crisis=True)
        for topic, phrases in self._topics:
            if phrases.find(text):
                return SafetyVerdict(crisis=False, topic=topic)
        return None

    def _count_warning_signs(self, text: str) -> int:
        """Signs that mean little alone ("tonight", "my rifle") but a lot together."""
        words = frozenset(text.split())
        return sum(1 for sign in self._warning_signs if sign.could_match(words) and sign.find(text))
