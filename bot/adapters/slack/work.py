"""Answers in flight after the ack, and the event ids already answered.

Slack wants an ack within 3 seconds, so every answer runs after it, in a task (Bolt's own
listener task, or one of ours). Counting them lets shutdown (and tests) wait for them
instead of guessing with sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from bot.adapters.inflight import InFlight
from bot.core.pool import WorkerPool

log = logging.getLogger("bot.adapters.slack")
T = TypeVar("T")


class WorkTracker(InFlight):
    """Count requests from the moment Bolt routes them until their answer has been sent.

    ``reserve`` runs before the ack (as listener middleware), so a request that has been
    acknowledged but whose listener has not started yet still counts as in flight;
    ``carry_on`` releases the reservation once the answer is done.

    Working an answer out (the encoder, matching) is the CPU-heavy part, so ``think`` runs
    it in the service's worker pool (``bot.core.pool``) and the loop stays free to ack:
    Slack wants every ack within 3 seconds, however long a burst of answers takes.
    """

    def __init__(self, pool: WorkerPool) -> None:
        super().__init__()
        self._pool = pool
        self.inline = False  # True: listeners already run in a task of their own, after the ack
        self._tasks: set[asyncio.Task[None]] = set()

    def reserve(self) -> None:
        """Count one more request in flight."""
        self.begin()

    def release(self) -> None:
        """Count one request as finished."""
        self.end()

    async def carry_on(self, work: Coroutine[Any, Any, None]) -> None:
        """Do ``work`` after the ack, releasing one reservation when it ends.

        Right here when the listener runs in a task of its own already (``inline``, Bolt's
        default): a second task per request would only cost time. Otherwise in a new task,
        so that the ack never waits for an answer.
        """
        if self.inline:
            await self._run(work)
        else:
            self.spawn(work)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task that releases one reservation when it ends."""
        task = asyncio.get_running_loop().create_task(self._run(work))
        self._tasks.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)

    async def think(self, compute: Callable[..., T], *args: Any) -> T:
        """Run the CPU-bound ``compute(*args)`` in the worker pool, off the loop."""
        return await self._pool.run(compute, *args)

    async def _run(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:  # one failed answer must never take the bot down
            log.exception("Slack: answering a request failed")
        finally:
            self.release()


class EventClaims(Protocol):
    """A record of event ids that replicas share (``bot.storage.shared_state.SharedEvents``)."""

    def claim(self, event_id: str) -> bool:
        """Record ``event_id``; ``True`` for the first claim anywhere (blocking)."""


SHARED_EVENTS: ContextVar[EventClaims | None] = ContextVar("SHARED_EVENTS", default=None)
"""The shared record ``SeenEvents`` uses when none is passed; ``bot.ops.process`` sets it
while it starts Slack with ``DATABASE_URL`` on PostgreSQL, so every replica agrees."""


class SeenEvents:
    """Remember recent Events API ids, so a redelivered event is answered only once.

    Slack redelivers an event when it saw no ack in time (``X-Slack-Retry-Num``); the
    first delivery may well have been answered already, by this process or (behind a load
    balancer) by another replica. The ids this process has seen are checked first, in
    memory; a new one is then claimed in the ``shared`` record, if there is one.
    """

    def __init__(self, capacity: int, shared: EventClaims | None = None) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self.shared = shared if shared is not None else SHARED_EVENTS.get()

    async def claim(self, event_id: str | None) -> bool:
        """Record ``event_id``; ``True`` unless seen before here or elsewhere (no id: new).

        The shared record is a database: it is asked in a worker thread, off the loop.
        """
        if not self._remember(event_id):
            return False
        if self.shared is None or not event_id:
            return True
        return await asyncio.to_thread(self.shared.claim, event_id)

    def _remember(self, event_id: str | None) -> bool:
        """Record ``event_id`` in memory; ``False`` if this process saw it already."""
        if not event_id:
            return True
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True
