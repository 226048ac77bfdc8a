"""What adapters hold: the current responder, swapped whole when knowledge reloads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.core.alerts import AlertGate, AlertLimiter
from bot.core.cooldown import Cooldown, Verdict
from bot.core.pool import WorkerPool
from bot.core.reply import Reply
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase, load_knowledge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """One member message and the reply it got, for listeners that count or store.

    Listeners decide what to keep; the core hands them the reply, and ``message`` only
    for replies that are not private (crisis, check-in, advice: their text is never kept).
    """

    platform: str
    member: str
    message: str | None
    reply: Reply
    seconds: float
    knowledge_version: str


Listener = Callable[[Asked], None]


@dataclass(frozen=True)
class Outcome:
    """A reply, or the cooldown that held it back (``WARN``: tell the member once)."""

    reply: Reply | None
    cooldown: Verdict = Verdict.ALLOW


class BotService:
    """The running bot's state shared by every adapter in one process.

    Adapters read ``service.responder`` once per request, so a reload (which
    replaces the attribute) never gives one request a mix of two versions.
    """

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.responder = Responder(knowledge)
        limits = knowledge.limits
        self.cooldown = Cooldown(limits.cooldown_seconds)
        self.alerts: AlertGate = AlertLimiter(
            limits.alert_window_minutes * 60, limits.alerts_per_channel
        )
        self.listeners: list[Listener] = []
        self.pool = WorkerPool()  # adapters run ``ask`` here, never on the event loop

    @classmethod
    def from_directory(cls, directory: Path | str | None = None) -> BotService:
        """Load and validate ``directory`` (default: the shipped knowledge base)."""
        return cls(load_knowledge(directory))

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base currently served."""
        return self.responder.knowledge

    def ask(
        self,
        message: str,
        *,
        platform: str,
        member: str,
        responder: Responder | None = None,
        limited: bool = True,
    ) -> Outcome:
        """Answer a member's message and tell every listener (storage, metrics) about it.

        The safety screen runs first, always; a member inside their cooldown then skips
        matching, storage and metrics, unless the screen found a crisis or a reason to
        check in, which no cooldown ever holds back. Pass the ``responder`` the adapter
        already read for this request, so reply and texts share one knowledge version.
        ``limited=False`` is for the console, whose one member floods nobody.
        """
        responder = responder or self.responder
        started = time.perf_counter()
        screened = responder.screen(message)
        if limited and not screened.urgent:
            verdict = self.cooldown.check(member)
            if verdict is not Verdict.ALLOW:
                return Outcome(None, verdict)
        reply = responder.finish(screened)
        elapsed = time.perf_counter() - started
        event = Asked(
            platform=platform,
            member=member,
            message=None if reply.private else message,
            reply=reply,
            seconds=elapsed,
            knowledge_version=responder.knowledge.version,
        )
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # counting must never cost a member their answer
                log.exception("a reply listener failed")
        return Outcome(reply)
