"""How often moderators hear about one member or one channel: enough to act, never a flood.

A crisis or a "yes, I'd like support" can repeat within minutes; one alert per member
per window tells the moderators everything a second would, and a cap per channel keeps
a bad night in one channel from burying the alert channel. In memory for one process;
``bot.storage`` offers the same interface shared through PostgreSQL for replicas.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class AlertGate(Protocol):
    """Decides whether one more moderator alert may go out now."""

    def allow(self, member: str, channel: str) -> bool:
        """Record and allow an alert about ``member`` in ``channel``, or refuse it."""


class AlertLimiter:
    """At most one alert per member and ``per_channel`` alerts per channel per window."""

    def __init__(
        self,
        window_seconds: float,
        per_channel: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.per_channel = per_channel
        self._clock = clock
        self._members: dict[str, float] = {}
        self._channels: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # called from worker threads

    def allow(self, member: str, channel: str) -> bool:
        """Record and allow an alert about ``member`` in ``channel``, or refuse it."""
        with self._lock:
            return self._allow(member, channel)

    def _allow(self, member: str, channel: str) -> bool:
        now = self._clock()
        since = now - self.window_seconds
        last = self._members.get(member)
        if last is not None and last > since:
            return False
        recent = self._channels.setdefault(channel, deque())
        while recent and recent[0] <= since:
            recent.popleft()
        if len(recent) >= self.per_channel:
            return False
        recent.append(now)
        self._members[member] = now
        if len(self._members) > 10_000:
            self._members = {key: at for key, at in self._members.items() if at > since}
        return True
