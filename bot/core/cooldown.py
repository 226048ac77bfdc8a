"""Per-member cooldown so one member cannot flood a channel through the bot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum

MAX_TRACKED = 100_000


class Verdict(str, Enum):
    """What to do with a member's request."""

    ALLOW = "allow"
    WARN = "warn"  # the first refused request: tell the member once
    SILENT = "silent"  # refused again within the same cooldown: say nothing more


class Cooldown:
    """Allow one request per ``seconds`` per member key; warn once, then stay quiet."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[str, float] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()  # answers are worked out in several threads at once

    def check(self, member: str) -> Verdict:
        """Record a request from ``member`` and say whether to serve it."""
        if self.seconds <= 0:
            return Verdict.ALLOW
        with self._lock:
            return self._check(member)

    def _check(self, member: str) -> Verdict:
        now = self._clock()
        last = self._last.get(member)
        if last is not None and now - last < self.seconds:
            if member in self._warned:
                return Verdict.SILENT
            self._warned.add(member)
            return Verdict.WARN
        self._last[member] = now
        self._warned.discard(member)
        if len(self._last) > MAX_TRACKED:
            self._forget_before(now - self.seconds)
        return Verdict.ALLOW

    def _forget_before(self, moment: float) -> None:
        self._last = {key: at for key, at in self._last.items() if at >= moment}
        self._warned &= set(self._last)
