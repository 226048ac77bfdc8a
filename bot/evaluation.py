"""Score the bot on a labelled set: questions for matching, messages for the safety screen.

Used by ``ketamine-bot evaluate FILE`` (a moderator checking an edit, or README's figures
on the frozen test splits) and by the tests that guard the dev sets. Two file shapes:
- ``questions: {expect: [question, ...]}``: questions grouped under what the bot must do
  with them, an entry id, ``not_covered`` (a topic next to the article's that it does not
  cover) or ``out_of_scope``. Labels are mapping keys, never string values, so a checker
  that compares the strings of a held-out file with the knowledge base's never reads them
  (entry ids such as ``risk-side-effects`` would otherwise look like shared phrases). The
  older list shape ``questions: [{q, expect}]`` is still read;
- ``messages: [{text, label}]``: ``label`` is ``crisis`` / ``not_crisis`` or
  ``advice`` / ``general``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.knowledge.yamlfile import load_data

NOT_COVERED = "not_covered"
OUT_OF_SCOPE = "out_of_scope"
FLAGGED = (ReplyKind.CRISIS, ReplyKind.CHECK_IN)  # a crisis message counts as caught by either


@dataclass(frozen=True)
class Case:
    """One message and what the bot must do with it."""

    text: str
    expect: str


@dataclass
class Figures:
    """Passed and total per line of the summary, and the cases that went wrong."""

    totals: dict[str, int] = field(default_factory=dict)
    passed: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def count(self, line: str, ok: bool, case: Case | None = None, got: str = "") -> None:
        """Add one case to ``line``; keep it as a miss when it went wrong."""
        self.totals[line] = self.totals.get(line, 0) + 1
        self.passed[line] = self.passed.get(line, 0) + int(ok)
        if not ok and case is not None:
            self.misses.append(f"[{line}] {case.text!r}: expected {case.expect}, got {got}")

    def rate(self, line: str) -> float:
        """Share of ``line`` that passed, 0.0 to 1.0."""
        total = self.totals.get(line, 0)
        return self.passed.get(line, 0) / total if total else 0.0

    def summary(self) -> str:
        """One line per figure, as printed by the CLI and the benchmark."""
        return "\n".join(
            f"{line:<44} {self.passed.get(line, 0):>4}/{total:<4} {self.rate(line):6.1%}"
            for line, total in self.totals.items()
        )


def load_cases(path: Path | str) -> list[Case]:
    """The cases of one file, in either shape."""
    data = load_data(Path(path))
    if "messages" in data:
        return [Case(str(item["text"]), str(item["label"])) for item in data["messages"]]
    questions = data.get("questions") or {}
    if isinstance(questions, dict):
        return [
            Case(str(text), str(expect))
            for expect, texts in questions.items()
            for text in texts or []
        ]
    return [Case(str(item["q"]), str(item["expect"])) for item in questions]


def _got(kind: ReplyKind, entry_id: str | None) -> str:
    return f"{kind.value}:{entry_id}" if entry_id else kind.value


def evaluate(responder: Responder, cases: Sequence[Case]) -> Figures:
    """Run every case through ``respond`` and count what went right."""
    figures = Figures()
    for case in cases:
        reply = responder.respond(case.text)
        got = _got(reply.kind, reply.entry_id)
        flagged = reply.kind in FLAGGED
        if case.expect == "crisis":
            figures.count("crisis: caught (crisis or check-in)", flagged, case, got)
            figures.count("crisis: crisis reply", reply.kind is ReplyKind.CRISIS)
        elif case.expect in ("not_crisis", "general"):
            figures.count(f"{case.expect}: no crisis or check-in", not flagged, case, got)
            if case.expect == "general":
                figures.count(
                    "general: no advice reply", reply.kind is not ReplyKind.ADVICE, case, got
                )
        elif case.expect == "advice":
            figures.count("advice: advice reply", reply.kind is ReplyKind.ADVICE, case, got)
        elif case.expect in (NOT_COVERED, OUT_OF_SCOPE):
            figures.count(
                f"{case.expect}: not answered", reply.kind is not ReplyKind.ANSWER, case, got
            )
            if case.expect == NOT_COVERED:
                figures.count(
                    "not_covered: honest not-covered reply", reply.kind is ReplyKind.NOT_COVERED
                )
        else:
            right = reply.kind is ReplyKind.ANSWER and reply.entry_id == case.expect
            figures.count("in scope: right entry answered", right, case, got)
        if case.expect not in ("crisis", "not_crisis", "general", "advice"):
            figures.count("questions: no crisis or check-in", not flagged, case, got)
    return figures


def evaluate_files(responder: Responder, paths: Iterable[Path | str]) -> Figures:
    """All cases of several files scored together."""
    return evaluate(responder, [case for path in paths for case in load_cases(path)])
