"""Shared fixtures: the network guard for every test, and the shipped knowledge base."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.responder import Responder
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, load_knowledge
from tests.network_guard import loopback_only

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = ROOT / "knowledge"


@pytest.fixture(autouse=True, scope="session")
def _no_internet() -> Iterator[None]:
    with loopback_only():
        yield


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE_DIR)


@pytest.fixture(scope="session")
def responder(knowledge: KnowledgeBase) -> Responder:
    return Responder(knowledge)


@pytest.fixture()
def service(knowledge: KnowledgeBase) -> BotService:
    """A fresh service per test, so cooldowns never leak between tests."""
    return BotService(knowledge)
