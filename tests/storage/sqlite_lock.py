"""A locked SQLite file and the rows that land after it: shared by the writer test and
``benchmarks/storage_lock.py``, so the benchmark measures exactly what the test checks.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.knowledge import KnowledgeBase
from bot.storage import Store
from bot.storage.store import questions

LOCK_TAKEN_SECONDS = 5.0  # taking a lock on a fresh file is instant; longer means it failed


def hold_exclusive_lock(path: Path, seconds: float) -> threading.Thread:
    """Another connection holds ``BEGIN EXCLUSIVE`` on the file for ``seconds``.

    Returns once the lock is held; join the thread to wait for its release. A daemon
    thread, so a failing test or an interrupted benchmark does not wait for it.
    """
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold, name="lock-holder", daemon=True)
    holder.start()
    if not locked.wait(LOCK_TAKEN_SECONDS):
        raise RuntimeError(f"could not lock {path} within {LOCK_TAKEN_SECONDS:g} s")
    return holder


def question_rows(store: Store) -> int:
    """How many question rows the database holds: the records that landed."""
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(questions)).scalar_one())


def entry_questions(knowledge: KnowledgeBase, count: int) -> list[str]:
    """``count`` questions that each get an answer: the entries' own, round and round."""
    entries = list(knowledge.entries.values())
    return [entries[number % len(entries)].question for number in range(count)]
