"""The cog's own work: what shutdown waits for, and where CPU-heavy answers are worked out.

discord.py runs each listener, slash command and button callback as a task of its own.
Rather than watching every task the library starts (which costs something for every
message in every channel the bot can see), each handler of the cog that does real work
registers itself here (``@tracked``), so shutdown can refuse new work and wait for
exactly the work in flight. A message that is not for the bot never gets this far.

``think`` runs the core (the encoder and matching, 5-40 ms of CPU) in the service's worker
pool (``bot.core.pool``), so the event loop only receives, acknowledges and sends:
heartbeats stay on time and one member's long question never delays another's button press.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from bot.adapters.inflight import InFlight
from bot.core.pool import WorkerPool

P = ParamSpec("P")
T = TypeVar("T")


class WorkTracker(InFlight):
    """Work the cog has started and not finished; closed once shutdown begins."""

    def __init__(self, pool: WorkerPool) -> None:
        super().__init__()
        self.open = True
        self.started = 0  # handlers that did work since start (not messages merely seen)
        self._pool = pool

    @property
    def in_flight(self) -> int:
        """Handlers that started and have not finished."""
        return self.active

    def begin(self) -> None:
        """Count one handler as started (``end`` must follow, however it ends)."""
        self.started += 1
        super().begin()

    def close(self) -> None:
        """Refuse new work; work in flight goes on (its replies can still be sent)."""
        self.open = False

    async def drain(self, timeout: float) -> bool:
        """Close, then wait up to ``timeout`` s for work in flight; ``False`` if some is late."""
        self.close()
        return await self.wait_idle(timeout)

    async def think(self, compute: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the CPU-bound ``compute`` in the worker pool; waits its turn in a burst."""
        return await self._pool.run(compute, *args, **kwargs)


class HasWork(Protocol):
    """Anything with a ``WorkTracker`` (the cog and its mixins)."""

    work: WorkTracker


W = TypeVar("W", bound=HasWork)


def tracked(
    handler: Callable[Concatenate[W, P], Awaitable[None]],
) -> Callable[Concatenate[W, P], Awaitable[None]]:
    """Run ``handler`` as tracked work, or not at all once the tracker is closed.

    A refused interaction is left unanswered, as Discord expects of a bot going away:
    the member sees "interaction failed" and can try again once the bot is back.
    """

    @functools.wraps(handler)
    async def run(self: W, *args: P.args, **kwargs: P.kwargs) -> None:
        work = self.work
        if not work.open:
            return
        work.begin()
        try:
            await handler(self, *args, **kwargs)
        finally:
            work.end()

    return run
