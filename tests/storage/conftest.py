"""Stores for the storage tests: SQLite in tmp_path, and PostgreSQL when TEST_DATABASE_URL is set.

`.ci/run` starts a PostgreSQL server on loopback and sets TEST_DATABASE_URL, so every test that
takes `database_url` (or `open_store`) runs against both databases through the same code.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine

from bot.core.service import BotService
from bot.storage import Store
from bot.storage.config import database_url as resolve_url
from bot.storage.store import metadata

START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
SECRET = b"storage-tests-secret"
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])]


class FakeClock:
    """A clock the test moves by hand, so retention and per-day counts need no sleeping."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def _drop_tables(url: str) -> None:
    engine = create_engine(resolve_url(url))
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database of each configured kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    url = os.environ["TEST_DATABASE_URL"]
    _drop_tables(url)
    yield url
    _drop_tables(url)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def open_store(database_url: str, clock: FakeClock) -> Iterator[Callable[..., Store]]:
    """Open stores on the test database (the same one each time, like a restart); closes them."""
    opened: list[Store] = []

    def opener(**options: object) -> Store:
        options = {"secret": SECRET, "clock": clock, **options}
        store = Store.open(database_url, **options)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture()
def store(open_store: Callable[..., Store]) -> Store:
    return open_store()


@pytest.fixture()
def recording_service(service: BotService, store: Store) -> BotService:
    """The bot as it runs: every reply goes to ``store.record``."""
    service.listeners.append(store.record)
    return service
