"""The worker pool: work runs off the loop, at most ``limit`` at once, and none is lost."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.core.pool import WorkerPool


async def test_work_runs_in_worker_threads_and_returns_its_result():
    pool = WorkerPool(workers=2)
    try:
        name = await pool.run(lambda: threading.current_thread().name)
        assert name.startswith("answer")
        assert await pool.run(pow, 2, 10) == 1024
    finally:
        pool.close()


async def test_a_burst_waits_its_turn_but_the_loop_stays_free_and_nothing_is_lost():
    pool = WorkerPool(workers=2, limit=3)
    running, peak = 0, 0
    lock = threading.Lock()

    def busy(number: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)  # CPU work stands in here; the loop must not wait for it
        with lock:
            running -= 1
        return number

    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    try:
        results = await asyncio.gather(*(pool.run(busy, number) for number in range(12)))
    finally:
        beat.cancel()
        pool.close()
    assert results == list(range(12))
    assert peak <= 2  # never more threads at work than workers
    assert ticks >= 15  # the loop kept beating through about 0.3 s of work
    assert pool.waiting == 0


async def test_an_error_reaches_its_caller_and_results_come_back_in_batches(monkeypatch):
    pool = WorkerPool(workers=2)
    loop = asyncio.get_running_loop()
    wakes = 0
    wake = loop.call_soon_threadsafe

    def counted(*args, **kwargs):
        nonlocal wakes
        wakes += 1
        return wake(*args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted)

    def fail() -> None:
        raise ValueError("no answer")

    try:
        with pytest.raises(ValueError, match="no answer"):
            await pool.run(fail)
        wakes = 0
        results = await asyncio.gather(*(pool.run(pow, number, 2) for number in range(200)))
    finally:
        pool.close()
    assert results == [number**2 for number in range(200)]
    assert wakes < 200  # the loop is woken once per batch of results, not once per result


async def test_closing_runs_the_jobs_still_waiting_for_their_hand_over():
    pool = WorkerPool(workers=1)
    pending = asyncio.create_task(pool.run(pow, 3, 2))
    await asyncio.sleep(0)  # queued, not yet handed to the worker
    await asyncio.to_thread(pool.close)
    assert await asyncio.wait_for(pending, 5) == 9


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


async def test_a_pool_of_several_workers_keeps_numpy_products_on_one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):  # as a process starts on 2 cores
        assert set(_blas_threads()) == {2}
        pool = WorkerPool(workers=2)
        try:
            await pool.run(pow, 2, 10)
            assert set(_blas_threads()) == {1}
        finally:
            pool.close()
