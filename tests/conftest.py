"""Shared fixtures: the network guard for every test, and the shipped knowledge base."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.pool import one_blas_thread
from bot.core.responder import Responder
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.storage import Store
from tests.network_guard import loopback_only

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = ROOT / "knowledge"


def pytest_configure(config: pytest.Config) -> None:
    """One BLAS thread, as the bot's pool has it; and a PostgreSQL database per worker.

    pytest-xdist runs a worker per core, so BLAS threads would fight each other as they do
    in the bot; the variable reaches the bots and commands the tests start in processes.
    Each pytest-xdist worker gets a PostgreSQL database of its own.

    The PostgreSQL tests drop and create the bot's tables; two workers on one database would
    drop each other's tables mid-test. Runs before any test module reads the variable.
    """
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    one_blas_thread()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL")
    if worker and url:
        os.environ["TEST_DATABASE_URL"] = _database_of_its_own(url, worker)


def _database_of_its_own(url: str, worker: str) -> str:
    from sqlalchemy import create_engine, make_url, text

    from bot.storage.config import database_url

    shared = make_url(url)
    own = shared.set(database=f"{shared.database}_{worker}")
    engine = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
            ).first()
            if found is None:
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        engine.dispose()
    return own.render_as_string(hide_password=False)


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
