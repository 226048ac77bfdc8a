"""Work in flight: what a platform's shutdown waits for, counted the same way on each.

An adapter counts a request from the moment it takes it up until its answer is sent;
shutdown (and the tests) then wait for exactly that work instead of guessing with sleeps.
A count and one event, not a future per request: every answer passes through here.
"""

from __future__ import annotations

import asyncio


class InFlight:
    """A count of work started and not finished, and a way to wait until it is zero."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()  # bound to a loop only once waited on
        self._idle.set()

    @property
    def active(self) -> int:
        """Work started and not finished."""
        return self._active

    def begin(self) -> None:
        """Count one more piece of work (``end`` must follow, however it ends)."""
        self._active += 1
        self._idle.clear()

    def end(self) -> None:
        """Count one piece of work as finished."""
        self._active -= 1
        if self._active <= 0:
            self._active = 0
            self._idle.set()

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is in flight; ``False`` if ``timeout`` seconds pass first."""
        if not self._active:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True
