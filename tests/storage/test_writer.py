"""The storage writer: a locked or failing database delays records, never an answer."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.core.service import BotService
from bot.storage import Store
from bot.storage.writer import StoreWriter
from tests.storage.sqlite_lock import entry_questions, hold_exclusive_lock, question_rows

LOCK_SECONDS = 10.0
QUESTIONS = 100
USUAL_ANSWER_SECONDS = 0.5  # the core answers in milliseconds; the busy timeout is 5 s


async def ask_all(service: BotService, questions_asked: list[str]) -> list[float]:
    """Each question through the service, on the event loop as an adapter would; seconds each."""
    seconds = []
    for number, question in enumerate(questions_asked):
        started = time.perf_counter()
        reply = service.ask(question, platform="slack", member=f"U{number}").reply
        seconds.append(time.perf_counter() - started)
        assert reply is not None and reply.text
        await asyncio.sleep(0)  # let the loop breathe, as between two events
    return seconds


@pytest.mark.slow
async def test_a_locked_database_delays_records_never_answers(service: BotService, tmp_path):
    path = tmp_path / "bot.sqlite3"
    store = Store.open(f"sqlite:///{path}", secret=b"s")
    writer = StoreWriter(store).start()
    service.listeners.append(writer.record)
    asked = entry_questions(service.knowledge, QUESTIONS)
    try:
        holder = hold_exclusive_lock(path, LOCK_SECONDS)
        seconds = await ask_all(service, asked)
        assert max(seconds) < USUAL_ANSWER_SECONDS, f"an answer waited {max(seconds):.2f} s"
        assert writer.pending == QUESTIONS  # nothing written yet: the lock is still held
        holder.join()
        assert await asyncio.to_thread(writer.flush, 10)
        assert question_rows(store) == QUESTIONS
        assert (writer.written, writer.lost) == (QUESTIONS, 0)
    finally:
        assert writer.close(5) == 0
        store.close()


def test_shutdown_writes_what_is_queued(service: BotService, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s")
    writer = StoreWriter(store)  # not started: everything stays queued until close
    service.listeners.append(writer.record)
    service.ask("what is ketamine", platform="slack", member="U1")
    writer.vote(member="U1", message_ref="C1:1.0", entry_id="ketamine-speed", helpful=True)
    writer.start()

    assert writer.close(5) == 0
    assert question_rows(store) == 1
    assert store.votes()["ketamine-speed"].helpful == 1
    store.close()


def test_a_full_queue_is_counted_and_logged_never_silent(service: BotService, tmp_path, caplog):
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s")
    writer = StoreWriter(store, capacity=2)  # not started yet: the queue fills up
    service.listeners.append(writer.record)
    for number in range(5):
        service.ask("what is ketamine", platform="slack", member=f"U{number}")
    writer.start()

    with caplog.at_level(logging.WARNING, logger="bot.storage.writer"):
        assert writer.close(5) == 3
    assert question_rows(store) == 2
    assert [record.getMessage() for record in caplog.records] == [
        "storage: 3 record(s) not written (3 the write queue was full); 3 since start"
    ]
    store.close()


def test_a_database_that_keeps_failing_is_counted_after_the_retries(
    service: BotService, tmp_path, caplog
):
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s")
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE questions")  # every insert fails from now on
    writer = StoreWriter(store, retry_seconds=0.5).start()
    service.listeners.append(writer.record)
    reply = service.ask("what is ketamine", platform="slack", member="U1").reply

    assert reply is not None and reply.kind.value == "answer"
    assert writer.flush(5)
    with caplog.at_level(logging.WARNING, logger="bot.storage.writer"):
        assert writer.close(5) == 1
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith("storage: 1 record(s) not written (1 the database failed: ")
    assert "no such table: questions" in line
    store.close()
