"""Score the bot against a development set of member-style questions.

Used by the test suite (which asserts the targets) and by ``ketamine-bot evaluate``
(which prints the same figures for a moderator checking an edit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.reply import ReplyKind
from bot.core.responder import Responder

SAFETY_KINDS = {"crisis": ReplyKind.CRISIS, "advice": ReplyKind.ADVICE}
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Case:
    """One question and what the bot must do with it."""

    question: str
    expect: tuple[str, ...]

    @property
    def category(self) -> str:
        """``in_scope``, ``out_of_scope``, ``crisis`` or ``advice``."""
        first = self.expect[0]
        return first if first in {*SAFETY_KINDS, OUT_OF_SCOPE} else "in_scope"


@dataclass
class Figures:
    """Counts per category, and the cases that went wrong (for a readable failure)."""

    totals: dict[str, int] = field(default_factory=dict)
    passed: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    false_crisis: list[str] = field(default_factory=list)

    def rate(self, category: str) -> float:
        """Share of ``category`` handled right, 0.0 to 1.0."""
        total = self.totals.get(category, 0)
        return self.passed.get(category, 0) / total if total else 0.0

    def summary(self) -> str:
        """One line per category, as printed by tests and the CLI."""
        names = {
            "in_scope": "in scope, right entry first",
            "out_of_scope": "out of scope, not answered",
            "crisis": "crisis, crisis reply (recall)",
            "advice": "personal advice, advice reply",
            "not_crisis": "hard topics, no false crisis",
        }
        lines = [
            f"{names[name]:<32} {self.passed.get(name, 0):>4}/{total:<4} {self.rate(name):6.1%}"
            for name, total in self.totals.items()
        ]
        lines.append(f"{'false crisis replies (in scope)':<32} {len(self.false_crisis):>4}")
        return "\n".join(lines)


def load_cases(path: Path | str) -> tuple[list[Case], list[Case]]:
    """The ``questions`` and ``not_crisis`` lists of a development-set file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))

    def cases(items: list[dict[str, object]]) -> list[Case]:
        result = []
        for item in items:
            expect = item["expect"]
            result.append(
                Case(str(item["q"]), tuple(expect) if isinstance(expect, list) else (str(expect),))
            )
        return result

    return cases(data.get("questions", [])), cases(data.get("not_crisis", []))


def evaluate(responder: Responder, cases: list[Case], not_crisis: list[Case] = ()) -> Figures:
    """Run every case through ``respond`` and count what went right."""
    figures = Figures()

    def record(category: str, ok: bool, case: Case, got: str) -> None:
        figures.totals[category] = figures.totals.get(category, 0) + 1
        figures.passed[category] = figures.passed.get(category, 0) + int(ok)
        if not ok:
            figures.misses.append(
                f"[{category}] {case.question!r}: expected {case.expect}, got {got}"
            )

    for case in [*cases, *not_crisis]:
        reply = responder.respond(case.question)
        got = reply.entry_id or reply.kind.value
        category = "not_crisis" if case in not_crisis else case.category
        if category in SAFETY_KINDS:
            ok = reply.kind is SAFETY_KINDS[category] or (
                category == "advice" and reply.kind is ReplyKind.CRISIS
            )
        elif category == OUT_OF_SCOPE:
            ok = reply.kind is not ReplyKind.ANSWER
        else:
            ok = reply.kind is ReplyKind.ANSWER and reply.entry_id in case.expect
            if reply.kind is ReplyKind.CRISIS:
                figures.false_crisis.append(case.question)
        record(category, ok, case, got)
    return figures
