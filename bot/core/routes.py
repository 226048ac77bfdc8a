"""Wordings that do not lead where they are written.

A phrasing that another entry wins, or that the safety screen takes (a personal medical
question, a check-in), is never answered by the entry it sits in: a moderator's edit that
looks fine and can never work. ``ketamine-bot validate --routes`` and the tests ask every
wording once and list the ones that go elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.reply import Reply, ReplyKind
from bot.core.responder import Responder
from bot.knowledge.problems import Problem


@dataclass(frozen=True)
class Misroute:
    """One wording of ``owner`` (an entry or a not-covered topic) and where it went instead."""

    owner: str
    wording: str
    went_to: str

    def __str__(self) -> str:
        return f"{self.owner}: {self.wording!r} -> {self.went_to}"


def _wordings(responder: Responder) -> Iterator[tuple[str, str, ReplyKind]]:
    """Each wording, its owner, and the kind of reply it must get."""
    knowledge = responder.knowledge
    for entry in knowledge.entries.values():
        for text in (entry.question, *entry.phrasings):
            yield entry.id, text, ReplyKind.ANSWER
    for topic in knowledge.not_covered.values():
        for text in topic.phrasings:
            yield topic.id, text, ReplyKind.NOT_COVERED


def _destination(reply: Reply) -> str:
    target = reply.entry_id or reply.topic
    return f"{reply.kind.value} {target}" if target else reply.kind.value


def misroutes(responder: Responder) -> list[Misroute]:
    """Every wording whose reply is not its own entry's answer or its own topic's reply."""
    wrong = []
    for owner, text, kind in _wordings(responder):
        reply = responder.respond(text)
        target = reply.entry_id if kind is ReplyKind.ANSWER else reply.topic
        if reply.kind is not kind or target != owner:
            wrong.append(Misroute(owner, text, _destination(reply)))
    return wrong


def _where(directory: Path) -> dict[str, tuple[str, int]]:
    """Each wording's first file and line in the knowledge folder, to point a moderator at it."""
    where: dict[str, tuple[str, int]] = {}
    for path in [*sorted((directory / "entries").glob("*.yaml")), directory / "not-covered.yaml"]:
        if not path.is_file():
            continue
        label = str(path)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            item = line.strip().removeprefix("- ").removeprefix("question:").strip()
            try:
                value = yaml.safe_load(item) if item else None
            except yaml.YAMLError:
                continue
            if isinstance(value, str):
                where.setdefault(value, (label, number))
    return where


def route_problems(responder: Responder, directory: Path) -> list[Problem]:
    """``misroutes`` as problems a moderator can find: ``file:line: message``."""
    where = _where(directory)
    problems = []
    for wrong in misroutes(responder):
        label, line = where.get(wrong.wording, ("?", 0))
        problems.append(
            Problem(
                label,
                line,
                f"'{wrong.wording}' ({wrong.owner}) gets {wrong.went_to}, not its own reply;"
                " reword it, or move it where it leads",
            )
        )
    return sorted(problems)
