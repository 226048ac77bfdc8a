"""Where the heavy work runs: a worker pool sized to the machine, with backpressure.

Encoding a message and matching it cost 5-40 ms of CPU. On the event loop that would
stall Slack's 3-second acks, Discord's heartbeats and every other member's answer, so
adapters hand it here. onnxruntime and numpy release the GIL, so threads use the cores.
At most ``limit`` answers wait or run at once; past that, new work waits on the loop
(an ``await``, never a blocked thread), so a burst slows answers and loses none.

Handing work over and back is batched, because under a burst it costs more than a
cheap answer itself. Jobs go to the workers' queue together, ``HANDOFF_SECONDS`` after the
first of them (so a worker is woken once for all the jobs that arrived meanwhile, not once
per job, and does not take the core from the loop in the middle of a pass), and results
go back to the loop in batches: one wake-up of the loop for every result that is ready by
then, instead of one per result as ``run_in_executor`` has it. The price is at most
``HANDOFF_SECONDS`` more per answer, nothing beside a chat platform's round trip.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
QUEUE_PER_WORKER = 32
# jobs wait this long for others to go to the workers with them: 2 ms on a reply that
# takes tens of milliseconds to reach the member; on Discord's one message per gateway
# frame it takes context switches per fixed reply in discord_load.py from 1.1-1.5 to
# 0.7-0.9, and CPU per reply from 0.56-0.67 to 0.47-0.50 ms (two runs each)
HANDOFF_SECONDS = 0.002

# one finished job: the loop's future, and the result or the error
_Done = tuple["asyncio.Future[Any]", Any, BaseException | None]
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def one_blas_thread() -> None:
    """Keep each numpy product on the thread that asked for it.

    The pool already runs one job per core; OpenBLAS spreading every product over all the
    cores as well made concurrent jobs fight for them. Two processes each asking every
    knowledge wording took 27 s each with BLAS threads, 14-16 s without (alone: 12 s and
    14 s; 2026-12-02, 2 cores). Process-wide, so the tests call it too.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


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
        self.waiting = 0  # calls queued behind the limit, for metrics and tests
        self._slots: asyncio.Semaphore | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # guards _ready and the threads' start
        self._ready: dict[asyncio.AbstractEventLoop, list[_Done]] = {}  # results to hand back
        self._outgoing: dict[asyncio.AbstractEventLoop, list[_Job]] = {}  # jobs of this pass
        self._closed = False

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` in a worker thread; waits its turn when the pool is full."""
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[T] = loop.create_future()
            if not self._threads:
                self._start()
            job: _Job = (loop, future, lambda: call(*args, **kwargs))
            outgoing = self._outgoing.get(loop)
            if outgoing is None:  # the first: send it, and all that join it, shortly
                self._outgoing[loop] = [job]
                loop.call_later(HANDOFF_SECONDS, self._send, loop)
            else:
                outgoing.append(job)
            return await future
        finally:
            self._slots.release()

    def close(self) -> None:
        """Finish the work already started (and handed over), then stop the threads."""
        self._closed = True
        for loop in list(self._outgoing):  # jobs still waiting for their hand-over go first
            self._send(loop)
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join()

    # -- the workers' side -------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            if self.workers > 1:
                one_blas_thread()
            for number in range(self.workers):
                thread = threading.Thread(target=self._work, name=f"answer_{number}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop, ``HANDOFF_SECONDS`` after the first of them: the jobs to the workers."""
        for job in self._outgoing.pop(loop, ()):
            self._jobs.put(job)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, call = job
            if future.cancelled():  # its caller gave up while it queued
                continue
            try:
                done: _Done = (future, call(), None)
            except StopIteration as error:  # a future cannot carry it: as asyncio does
                done = (future, None, RuntimeError(f"StopIteration raised: {error!r}"))
            except BaseException as error:  # handed to the caller, as an executor would
                done = (future, None, error)
            self._hand_back(loop, done)

    def _hand_back(self, loop: asyncio.AbstractEventLoop, done: _Done) -> None:
        """Queue a result for the loop; wake the loop only if no wake-up is on its way."""
        with self._lock:
            batch = self._ready.get(loop)
            if batch is not None:  # a delivery is scheduled and will take this one too
                batch.append(done)
                return
            self._ready[loop] = [done]
        try:
            loop.call_soon_threadsafe(self._deliver, loop)
        except RuntimeError:  # the loop has closed: nobody is waiting for these any more
            with self._lock:
                self._ready.pop(loop, None)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: hand every result that is ready to its caller."""
        with self._lock:
            batch = self._ready.pop(loop, [])
        for future, result, error in batch:
            if future.cancelled():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
