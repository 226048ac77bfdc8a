"""The one platform-neutral reply every adapter renders.

The core fills every part; ``text`` is the whole reply as plain text (what the
console prints and what platforms use as a notification fallback), so an adapter
that renders parts natively can never drop the disclaimer or the citation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class ReplyKind(str, Enum):
    """What sort of reply this is; adapters choose where and how to send it from this."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    FALLBACK = "fallback"
    CRISIS = "crisis"
    CHECK_IN = "check_in"
    ADVICE = "advice"
    NOT_COVERED = "not_covered"
    SOURCES = "sources"
    HELP = "help"


@dataclass(frozen=True)
class Citation:
    """A source as it appears under a reply."""

    source_id: str
    short: str
    reference: str
    link: str | None
    note: str | None = None

    @property
    def line(self) -> str:
        """One line under an answer: the short form and where to read it."""
        return f"{self.short} {self.link}" if self.link else self.short

    @property
    def full_line(self) -> str:
        """One line of the source list: the full reference and its link (or why none)."""
        where = self.link or self.note
        return f"{self.reference} {where}" if where else self.reference


@dataclass(frozen=True)
class Suggestion:
    """An entry the member can pick (did-you-mean, related question, autocomplete)."""

    entry_id: str
    question: str


@dataclass(frozen=True)
class Choice:
    """A button the member answers a check-in with: ``support`` or ``other``."""

    id: str
    label: str


SUPPORT = "support"  # "yes, I'd like support": the full crisis reply (and the opt-in alert)
OTHER = "other"  # "no, I was asking about something else": the ordinary reply
PRIVATE_KINDS = frozenset({"crisis", "check_in", "advice"})  # their text is never kept


@dataclass(frozen=True)
class Reply:
    """Everything a member should read, in parts an adapter can lay out natively."""

    question: str
    kind: ReplyKind
    title: str
    body: str
    disclaimer: str
    items: tuple[str, ...] = ()
    note: str | None = None
    note_label: str | None = None
    citations: tuple[Citation, ...] = ()
    citations_label: str = "Source:"
    suggestions: tuple[Suggestion, ...] = ()
    suggestions_label: str | None = None
    entry_id: str | None = None
    score: float | None = None
    topic: str | None = None
    question_prompt: str | None = None
    choices: tuple[Choice, ...] = ()

    @property
    def private(self) -> bool:
        """Sent only to the member (DM or ephemeral), and its text never stored."""
        return self.kind.value in PRIVATE_KINDS

    @property
    def safety_first(self) -> bool:
        """Resources come first and no cooldown ever holds this reply back."""
        return self.kind in (ReplyKind.CRISIS, ReplyKind.CHECK_IN)

    @property
    def text(self) -> str:
        """The whole reply as plain text, disclaimer and citations included."""
        blocks = [self.title]
        if self.kind is ReplyKind.CRISIS:
            blocks.append("\n".join(f"- {item}" for item in self.items))
            blocks.append(self.body)
        elif self.kind is ReplyKind.CHECK_IN:
            blocks.append(self.body)
            blocks.append("\n".join(f"- {item}" for item in self.items))
            blocks.append(self.question_prompt or "")
            blocks.append("\n".join(f"[{choice.label}]" for choice in self.choices))
        else:
            blocks.append(self.body)
            if self.items:
                blocks.append("\n".join(f"- {item}" for item in self.items))
        if self.note:
            blocks.append(f"{self.note_label} {self.note}" if self.note_label else self.note)
        if self.suggestions:
            lines = [self.suggestions_label] if self.suggestions_label else []
            lines += [f"{n}. {s.question}" for n, s in enumerate(self.suggestions, start=1)]
            blocks.append("\n".join(lines))
        if self.citations and self.kind is not ReplyKind.SOURCES:  # listed in items already
            blocks.append(
                "\n".join([self.citations_label] + [f"- {c.line}" for c in self.citations])
            )
        blocks.append(self.disclaimer)
        return "\n\n".join(block for block in blocks if block)

    def to_json(self) -> dict[str, Any]:
        """The ``ask --json`` contract (DESIGN.md); keys and their meaning stay stable."""
        return {
            "question": self.question,
            "kind": self.kind.value,
            "entry_id": self.entry_id,
            "score": None if self.score is None else round(self.score, 1),
            "text": self.text,
            "citations": [
                {"id": c.source_id, "text": c.reference, "url": c.link} for c in self.citations
            ],
            "disclaimer": self.disclaimer,
            "suggestions": [
                {"entry_id": s.entry_id, "question": s.question} for s in self.suggestions
            ],
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
        }
