"""Answer latency while the SQLite file is locked (a script, not a test).

Asks questions through ``BotService.ask`` with the store attached as the running bot
attaches it (``StoreWriter.record``, a queue to a writer thread), first with the database
free, then while another connection holds ``BEGIN EXCLUSIVE`` for ``--lock`` seconds. It
prints the answer latency (p50/p95/max) of both runs and how long the records took to land.

    python benchmarks/storage_lock.py                  # 100 questions, a 10 s lock
    python benchmarks/storage_lock.py --direct 3       # also the old way: the store on the loop

``--direct N`` also asks N questions with ``Store.record`` called directly as the listener
(how the bot wrote before issue 11): each answer then waits for SQLite's busy timeout.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.service import Asked, BotService  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.storage import Store  # noqa: E402
from bot.storage.writer import StoreWriter  # noqa: E402
from tests.storage.sqlite_lock import (  # noqa: E402 - the lock and counts the test uses
    entry_questions,
    hold_exclusive_lock,
    question_rows,
)


def ask(service: BotService, questions: list[str]) -> list[float]:
    """Milliseconds each question took, listeners included.

    No cooldown: every run asks as the same members, and a member still inside the cooldown
    from the previous run would get no reply and no record, so nothing would be measured.
    """
    seconds = []
    for number, question in enumerate(questions):
        started = time.perf_counter()
        service.ask(question, platform="slack", member=f"U{number}", limited=False)
        seconds.append((time.perf_counter() - started) * 1000)
    return seconds


def summary(label: str, milliseconds: list[float]) -> str:
    ordered = sorted(milliseconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"  {label:<30}: {len(ordered)} answers, latency ms p50 {statistics.median(ordered):.2f}"
        f"  p95 {p95:.2f}  max {ordered[-1]:.2f}"
    )


def run(
    service: BotService,
    questions: list[str],
    folder: Path,
    listener: Callable[[Store], Callable[[Asked], None]],
    lock_seconds: float | None,
) -> tuple[list[float], float, Store]:
    """Ask with ``listener(store)`` attached; the latencies and seconds until all were stored."""
    path = folder / f"bot-{time.monotonic_ns()}.sqlite3"
    store = Store.open(f"sqlite:///{path}", secret=b"benchmark")
    attached = listener(store)
    service.listeners[:] = [attached]
    started = time.perf_counter()
    holder = hold_exclusive_lock(path, lock_seconds) if lock_seconds else None
    latencies = ask(service, questions)
    if holder is not None:
        holder.join()
    writer = getattr(attached, "__self__", None)
    if isinstance(writer, StoreWriter):
        writer.flush(120)
    stored = time.perf_counter() - started
    if isinstance(writer, StoreWriter):
        writer.close(5)
    return latencies, stored, store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--lock", type=float, default=10.0, help="seconds the file stays locked")
    parser.add_argument("--direct", type=int, default=0, metavar="N", help="also the old way")
    args = parser.parse_args()

    knowledge = load_knowledge(ROOT / "knowledge")
    service = BotService(knowledge)
    questions = entry_questions(knowledge, args.questions)

    def queued(store: Store) -> Callable[[Asked], None]:
        return StoreWriter(store).start().record

    print(f"Storage lock: {args.questions} questions, the SQLite file locked {args.lock:g} s")
    with tempfile.TemporaryDirectory() as folder:
        for label, lock in (("database free", None), (f"locked {args.lock:g} s", args.lock)):
            latencies, stored, store = run(service, questions, Path(folder), queued, lock)
            rows = question_rows(store)
            store.close()
            print(summary(f"queued writer, {label}", latencies))
            print(f"  {'':<30}  {rows} of {len(questions)} records stored after {stored:.2f} s")
        if args.direct:
            # the old way fails each write after the busy timeout: the service logs each one
            logging.getLogger("bot.core.service").setLevel(logging.CRITICAL)
            latencies, stored, store = run(
                service, questions[: args.direct], Path(folder), lambda s: s.record, args.lock
            )
            store.close()
            print(summary(f"direct Store.record, locked {args.lock:g} s", latencies))
            print(f"  {'':<30}  (each answer waits up to the 5 s busy timeout; a timed-out write")
            print(f"  {'':<30}   is lost)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
