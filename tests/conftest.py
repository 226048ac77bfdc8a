"""Shared fixtures: the network guard for every test, and the shipped knowledge base."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.responder import Responder
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.storage import Store
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


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A private copy of the shipped knowledge base that a test may edit."""
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy)
    return copy


@pytest.fixture()
def live_service(folder: Path) -> BotService:
    """A service answering from ``folder``, for tests that edit or reload it."""
    return BotService(load_knowledge(folder))


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store in the test's own folder."""
    with Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"test secret") as opened:
        yield opened


# Tests whose expectations predate the retrained safety screen and the knowledge-base rewrite
# (issues 9 and 10, still open): each is listed here by name so the gap stays visible, and
# each must come off this list as it is fixed. See the closing note of 2026-11-30.
# Empty since 2026-12-01: both tests listed until then (every phrasing reaches its own entry;
# not-covered phrasings get the not-covered reply) pass with the fifth round's model.
KNOWN_GAPS: frozenset[str] = frozenset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid in KNOWN_GAPS:
            item.add_marker(pytest.mark.xfail(reason="known gap, see KNOWN_GAPS", strict=False))
