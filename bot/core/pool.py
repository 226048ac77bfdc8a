"""Where the heavy work runs: a worker pool sized to the machine, with backpressure.

Encoding a message and matching it cost 5-40 ms of CPU. On the event loop that would
stall Slack's 3-second acks, Discord's heartbeats and every other member's answer, so
adapters hand it here. onnxruntime and numpy release the GIL, so threads use the cores.
At most ``limit`` answers wait or run at once; past that, new work waits on the loop
(an ``await``, never a blocked thread), so a burst slows answers and loses none.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
QUEUE_PER_WORKER = 32


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    """Run CPU-heavy calls off the event loop, a bounded number at a time."""

    def __init__(self, workers: int | None = None, limit: int | None = None) -> None:
        self.workers = workers or default_workers()
        self.limit = limit or self.workers * QUEUE_PER_WORKER
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="answer")
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0  # calls queued behind the limit, for metrics and tests

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` in a worker thread; waits its turn when the pool is full."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, lambda: call(*args, **kwargs))
        finally:
            self._slots.release()

    def close(self) -> None:
        """Finish the work already started, then stop the threads."""
        self._executor.shutdown(wait=True)
