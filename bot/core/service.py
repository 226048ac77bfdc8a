"""What adapters hold: the current responder, swapped whole when knowledge reloads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.core.cooldown import Cooldown
from bot.core.reply import Reply
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase, load_knowledge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """One member message and the reply it got, for listeners that count or store.

    Listeners decide what to keep; the core hands them the reply, and ``message`` only
    for replies that are neither crisis nor advice (whose text is never kept).
    """

    platform: str
    member: str
    message: str | None
    reply: Reply
    seconds: float
    knowledge_version: str


Listener = Callable[[Asked], None]


class BotService:
    """The running bot's state shared by every adapter in one process.

    Adapters read ``service.responder`` once per request, so a reload (which
    replaces the attribute) never gives one request a mix of two versions.
    """

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.responder = Responder(knowledge)
        self.cooldown = Cooldown(knowledge.limits.cooldown_seconds)
        self.listeners: list[Listener] = []

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
    ) -> Reply:
        """Answer a member's message and tell every listener (storage, metrics) about it.

        Pass the ``responder`` the adapter already read for this request, so the reply
        and the adapter's texts come from one knowledge-base version.
        """
        responder = responder or self.responder
        started = time.perf_counter()
        reply = responder.respond(message)
        elapsed = time.perf_counter() - started
        private = reply.kind.value in {"crisis", "advice"}
        event = Asked(
            platform=platform,
            member=member,
            message=None if private else message,
            reply=reply,
            seconds=elapsed,
            knowledge_version=responder.knowledge.version,
        )
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # counting must never cost a member their answer
                log.exception("a reply listener failed")
        return reply
