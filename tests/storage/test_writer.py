"""The storage writer: a locked or failing database delays records, never an answer."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from sqlalchemy.event import listen

from bot.core.service import Asked, BotService
from bot.storage import Store
from bot.storage.writer import BATCH_SIZE, StoreWriter
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


def test_a_burst_is_written_in_a_few_transactions_and_none_is_lost(service: BotService, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s")
    commits = []
    listen(store.engine, "commit", lambda connection: commits.append(1))
    writer = StoreWriter(store).start()
    asked: list[Asked] = []
    service.listeners.append(asked.append)
    service.ask("what is ketamine", platform="slack", member="U1")
    burst, threads = 1200, 3  # answers recorded from three workers at once, as a burst has it

    def record(first: int) -> None:
        for _ in range(first, burst, threads):
            writer.record(asked[0])

    workers = [threading.Thread(target=record, args=(first,)) for first in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert writer.close(5) == 0  # shutdown writes what is still lingering, at once
    assert question_rows(store) == burst
    assert (writer.written, writer.lost) == (burst, 0)
    # one transaction per batch of at most BATCH_SIZE rows: a few, never one per answer
    assert len(commits) == writer.transactions <= 2 + burst // BATCH_SIZE


def test_shutdown_does_not_wait_for_a_lingering_batch(service: BotService, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s")
    writer = StoreWriter(store, linger_seconds=60).start()  # would hold a batch for a minute
    service.listeners.append(writer.record)
    service.ask("what is ketamine", platform="slack", member="U1")
    started = time.monotonic()

    assert writer.close(5) == 0
    assert time.monotonic() - started < 2
    assert question_rows(store) == 1
    store.close()
