"""The in-flight tracker and the redelivery filter, on their own."""

from __future__ import annotations

import asyncio
import logging
import threading

from bot.adapters.slack.work import SeenEvents, WorkTracker
from bot.core.pool import WorkerPool


async def test_idle_waits_for_reserved_and_spawned_work():
    tracker = WorkTracker(WorkerPool(workers=2))
    assert await tracker.wait_idle(timeout=0)
    tracker.reserve()  # acknowledged, listener not started yet
    assert not await tracker.wait_idle(timeout=0.01)
    release = asyncio.Event()

    async def answer() -> None:
        await release.wait()

    tracker.spawn(answer())
    assert tracker.active == 1
    release.set()
    assert await tracker.wait_idle(timeout=5)
    assert tracker.active == 0


async def test_a_failing_answer_is_logged_and_released(caplog):
    tracker = WorkTracker(WorkerPool(workers=2))
    tracker.reserve()

    async def broken() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="bot.adapters.slack"):
        tracker.spawn(broken())
        assert await tracker.wait_idle(timeout=5)
    assert "answering a request failed" in caplog.text


async def test_with_one_worker_answers_are_worked_out_in_the_order_they_came():
    tracker = WorkTracker(WorkerPool(workers=1))
    order: list[str] = []

    async def answer(name: str) -> None:
        await tracker.think(order.append, f"{name} starts")
        await tracker.think(order.append, f"{name} ends")

    for name in ("a", "b"):
        tracker.reserve()
        tracker.spawn(answer(name))
    assert await tracker.wait_idle(timeout=5)
    assert order == ["a starts", "b starts", "a ends", "b ends"]


async def test_thinking_runs_in_a_worker_thread_while_the_loop_keeps_acking():
    tracker = WorkTracker(WorkerPool(workers=2))
    started, release = threading.Event(), threading.Event()

    def compute() -> int:
        started.set()
        assert release.wait(timeout=5)
        return threading.get_ident()

    thinking = asyncio.ensure_future(tracker.think(compute))
    assert await asyncio.to_thread(started.wait, 5)  # the loop still runs while it computes
    acked = asyncio.Event()
    asyncio.get_running_loop().call_soon(acked.set)  # what an ack needs: a turn of the loop
    await asyncio.wait_for(acked.wait(), timeout=5)
    assert not thinking.done()
    release.set()
    assert await thinking != threading.get_ident()


async def test_seen_events_drop_redeliveries_and_forget_the_oldest():
    seen = SeenEvents(capacity=2)
    assert [await seen.claim(event) for event in ("E1", "E2", "E1", None, None)] == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert await seen.claim("E3")  # E1 is forgotten now
    assert await seen.claim("E1")
    assert not await seen.claim("E3")
