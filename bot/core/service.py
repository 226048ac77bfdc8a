"""What adapters hold: the current responder, swapped whole when knowledge reloads."""

from __future__ import annotations

from pathlib import Path

from bot.core.cooldown import Cooldown
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase, load_knowledge


class BotService:
    """The running bot's state shared by every adapter in one process.

    Adapters read ``service.responder`` once per request, so a reload (which
    replaces the attribute) never gives one request a mix of two versions.
    """

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.responder = Responder(knowledge)
        self.cooldown = Cooldown(knowledge.limits.cooldown_seconds)

    @classmethod
    def from_directory(cls, directory: Path | str | None = None) -> BotService:
        """Load and validate ``directory`` (default: the shipped knowledge base)."""
        return cls(load_knowledge(directory))

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base currently served."""
        return self.responder.knowledge
