"""The loaded, validated knowledge base: one immutable value the core reads from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.core.synonyms import Canonicalizer
from bot.knowledge.schema import (
    AnswerCheckFile,
    DetectorFile,
    Entry,
    Limits,
    Matching,
    NotCoveredTopic,
    Replies,
    SafetyFile,
    Source,
    SynonymsFile,
)


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything in ``knowledge/`` after validation.

    Frozen so that a reload can swap the whole value at once: a request holds
    either the old base or the new one, never a mix.
    """

    directory: Path
    version: str
    entries: dict[str, Entry]
    sections: dict[str, str]
    sources: dict[str, Source]
    synonyms: SynonymsFile
    # built from ``synonyms`` by the loader, whose checks already read every wording with it
    canonicalizer: Canonicalizer
    safety: SafetyFile
    replies: Replies
    matching: Matching = field(default_factory=Matching)
    limits: Limits = field(default_factory=Limits)
    detectors: dict[str, DetectorFile] = field(default_factory=dict)
    answer_check: AnswerCheckFile | None = None  # None: the score bands alone decide
    not_covered: dict[str, NotCoveredTopic] = field(default_factory=dict)

    def section_of(self, entry_id: str) -> str:
        """The article section an entry answers."""
        return self.sections[entry_id]
