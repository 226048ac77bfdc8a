"""Records and votes written by a thread of their own, so a slow database never holds an answer.

``record`` (a ``BotService`` listener) and ``vote`` only put work on a bounded queue and
return. One writer thread takes the work off in batches and writes it, retrying a failing
database for ``retry_seconds``. A batch is what has queued up by ``linger_seconds`` after
its first record: under a burst of answers that is one transaction for many rows, not one
per answer (a transaction costs about ten times a row); ``flush`` and ``close`` cut the
wait short, so nothing waits on it at shutdown. What cannot be written (the queue is full,
the database still fails after the retries, shutdown came first) is counted and logged as
a count: never dropped silently, never a reason for a member to wait.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.service import Asked
    from bot.moderation.grouping import UnansweredGroup
    from bot.storage.store import Store

log = logging.getLogger(__name__)

QUEUE_CAPACITY = 10_000  # about an hour of a busy community's questions, a few MB at most
BATCH_SIZE = 500  # question rows inserted in one transaction
LINGER_SECONDS = 0.2  # after a batch's first record, wait this long for more to join it
RETRY_SECONDS = 60.0  # how long one batch is retried before it is counted as lost
FIRST_PAUSE_SECONDS = 0.25  # pause after a failed write, doubled each time...
LONGEST_PAUSE_SECONDS = 5.0  # ...up to this
REPORT_SECONDS = 60.0  # losses are logged at most this often (and at shutdown)
IDLE_WAKE_SECONDS = 1.0  # an idle writer still wakes to report losses and to notice close


@dataclass(frozen=True)
class Vote:
    """One feedback click, waiting to be written."""

    member: str
    message_ref: str
    entry_id: str
    helpful: bool


Work = dict[str, Any] | Vote  # a question row, or a vote
_WAKE: Any = object()  # put by close() so an idle writer notices at once


class StoreWriter:
    """A queue in front of a ``Store``: writes never block the caller; reads pass through."""

    def __init__(
        self,
        store: Store,
        *,
        capacity: int = QUEUE_CAPACITY,
        retry_seconds: float = RETRY_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.retry_seconds = retry_seconds
        self.linger_seconds = linger_seconds
        self.written = 0
        self.lost = 0
        self.transactions = 0  # batches of question rows written, for tests and figures
        self._clock = clock
        self._queue: queue.Queue[Work] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._counts = threading.Lock()
        self._unreported: Counter[str] = Counter()
        self._reported_at = float("-inf")  # the first loss is logged at once
        self._closing = threading.Event()
        self._abandoned = threading.Event()
        self._hurry = threading.Event()  # set while someone waits for the queue to empty

    # -- the callers' side: never waits ------------------------------------------------------

    def start(self) -> StoreWriter:
        """Start the writer thread; returns ``self``."""
        self._thread.start()
        return self

    def record(self, event: Asked) -> None:
        """Queue the row for one reply (a ``BotService`` listener)."""
        self._put(self.store.question_row(event))

    def vote(self, *, member: str, message_ref: str, entry_id: str, helpful: bool) -> None:
        """Queue one vote (a second click of the same member replaces the first)."""
        self._put(Vote(member, message_ref, entry_id, helpful))

    def unanswered(self, *, days: int = 30, limit: int = 10) -> Sequence[UnansweredGroup]:
        """Read through to the store (blocking: adapters call it in a thread)."""
        return self.store.unanswered(days=days, limit=limit)

    @property
    def pending(self) -> int:
        """Records and votes taken but not yet written (nor given up)."""
        return self._queue.unfinished_tasks

    def _put(self, work: Work) -> None:
        if self._closing.is_set():
            self._count_lost(1, "arrived after shutdown began")
            return
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            self._count_lost(1, "the write queue was full")

    # -- waiting and shutting down -----------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for everything queued to be written or given up."""
        deadline = self._clock() + timeout
        done = self._queue.all_tasks_done
        self._hurry.set()  # a lingering writer writes what it has now
        try:
            with done:
                while self._queue.unfinished_tasks:
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        return False
                    done.wait(remaining)
            return True
        finally:
            self._hurry.clear()

    def close(self, timeout: float) -> int:
        """Write what is queued (``timeout`` seconds at most), then stop; the count not written.

        Called at shutdown (SIGTERM): whatever is still queued when time is up is counted
        and logged, so an operator sees how many records a slow database cost.
        """
        flushed = self.flush(timeout)  # no batch lingers while it waits
        self._closing.set()
        if not flushed:
            self._abandoned.set()
            self._count_lost(self.pending, "shutdown came before the database took them")
        with contextlib.suppress(queue.Full):  # full: the writer is busy and will see it
            self._queue.put_nowait(_WAKE)
        if self._thread.is_alive():
            self._thread.join(IDLE_WAKE_SECONDS * 2)
        self._report(final=True)
        return self.lost

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._abandoned.is_set():
            try:
                first = self._queue.get(timeout=IDLE_WAKE_SECONDS)
            except queue.Empty:
                self._report()
                if self._closing.is_set():
                    return
                continue
            if first is not _WAKE and not (self._hurry.is_set() or self._closing.is_set()):
                self._hurry.wait(self.linger_seconds)  # let a burst gather behind it
            batch = [first]
            while len(batch) < BATCH_SIZE:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write([work for work in batch if work is not _WAKE])
            finally:
                for _ in batch:
                    self._queue.task_done()
            self._report()
            if _WAKE in batch and self._queue.empty():
                return

    def _write(self, batch: list[Work]) -> None:
        rows = [work for work in batch if isinstance(work, dict)]
        if rows and self._retry(lambda: self.store.insert_questions(rows), len(rows)):
            self.transactions += 1
        for work in batch:
            if isinstance(work, Vote):
                self._retry(
                    lambda vote=work: self.store.vote(
                        member=vote.member,
                        message_ref=vote.message_ref,
                        entry_id=vote.entry_id,
                        helpful=vote.helpful,
                    ),
                    1,
                )

    def _retry(self, write: Callable[[], None], count: int) -> bool:
        """Write, retrying a failing database for ``retry_seconds``; count what is lost.

        ``True`` once written; ``False`` when given up (counted as lost).
        """
        started = self._clock()
        pause = FIRST_PAUSE_SECONDS
        while not self._abandoned.is_set():
            try:
                write()
            except Exception as error:  # any database error: a record is never worth a crash
                reason = _first_line(error)
                if self._clock() - started + pause > self.retry_seconds:
                    self._count_lost(count, f"the database failed: {reason}")
                    return False
                log.debug("storage write failed (%s); retrying in %.2f s", reason, pause)
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
            else:
                with self._counts:
                    self.written += count
                return True
        return False

    # -- counting what was lost --------------------------------------------------------------

    def _count_lost(self, count: int, reason: str) -> None:
        if count <= 0:
            return
        with self._counts:
            self.lost += count
            self._unreported[reason] += count

    def _report(self, *, final: bool = False) -> None:
        """Log the records lost since the last report (at most every ``REPORT_SECONDS``)."""
        with self._counts:
            if not self._unreported:
                return
            if not final and self._clock() - self._reported_at < REPORT_SECONDS:
                return
            reasons = "; ".join(f"{count} {why}" for why, count in self._unreported.items())
            since = sum(self._unreported.values())
            total = self.lost
            self._unreported.clear()
            self._reported_at = self._clock()
        log.warning("storage: %d record(s) not written (%s); %d since start", since, reasons, total)


def _first_line(error: BaseException) -> str:
    reason = getattr(error, "orig", None) or error
    text = str(reason).strip()
    return text.splitlines()[0] if text else type(error).__name__
