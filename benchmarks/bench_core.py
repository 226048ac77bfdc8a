"""Core speed and memory: prints figures, asserts nothing (run it, read it, put it in README).

    python benchmarks/bench_core.py

Measures, one message at a time on one thread: the safety screen (encoder + detectors)
on member-style messages, the matching that follows it on the shipped knowledge base and
on a synthetic one of 10,000 entries, the start-up time of `ketamine-bot ask`, and peak
resident memory. Inputs are the dev sets (timing is not tuned on, but no test split is read).
Wording vectors are cached in temporary folders of the benchmark's own (one for the shipped
base, which the `ketamine-bot ask` runs share, one for the synthetic base), never in the
user's cache: 60,000 synthetic wordings there would be loaded at every start of the bot.
So every run encodes every wording afresh (the synthetic index's build time includes it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import itertools
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.responder import Responder  # noqa: E402
from bot.core.semantic import CACHE_VARIABLE  # noqa: E402
from bot.evaluation import load_cases  # noqa: E402
from bot.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.knowledge.schema import Entry  # noqa: E402
from bot.training.corpus import read_split  # noqa: E402

ROUNDS = 2_000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_calls(call: object, inputs: list[object], rounds: int) -> tuple[float, float]:
    for item in inputs[:50]:  # warm caches as a running bot would have them
        call(item)  # type: ignore[operator]
    timings = []
    for index in range(rounds):
        item = inputs[index % len(inputs)]
        start = time.perf_counter()
        call(item)  # type: ignore[operator]
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), percentile(timings, 0.99)


def synthetic(base: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """A knowledge base of ``size`` entries whose words follow a Zipf-like spread."""
    rng = random.Random(seed)
    real = list(base.entries.values())
    vocabulary = sorted(
        {w for e in real for p in e.phrasings for w in p.split()}
        | {f"term{i}" for i in range(6000)}
    )
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    entries = {}
    for number in range(size):

        def sentence(length: int) -> str:
            return " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=length))

        entry = Entry(
            id=f"synthetic-{number}",
            question=sentence(6) + "?",
            phrasings=[sentence(rng.randint(2, 12)) for _ in range(6)],
            answer="A synthetic answer.",
            sources=["article"],
            reviewed=dt.date(2026, 11, 27),
        )
        entries[entry.id] = entry
    entries.update(base.entries)
    sections = {entry_id: "Synthetic" for entry_id in entries} | base.sections
    return dataclasses.replace(base, entries=entries, sections=sections)


def startup_seconds() -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "how fast does ketamine work"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-core-cache-") as cache:
        measure(Path(cache))


def measure(cache: Path) -> None:
    """Every figure; wording vectors cached under ``cache`` (the shipped base's first)."""
    os.environ[CACHE_VARIABLE] = str(cache / "shipped")  # the ask runs below inherit it
    knowledge = load_knowledge(ROOT / "knowledge")
    questions = [
        case.text for case in load_cases(ROOT / "tests" / "data" / "questions" / "dev.yaml")
    ]
    messages = [m.text for m in read_split(ROOT / "tests" / "data" / "safety", "dev")]
    messages += [m.text for m in read_split(ROOT / "tests" / "data" / "advice", "dev")]

    shipped = Responder(knowledge)
    # The runner freezes what start-up allocated so the collector never rescans it
    # (bot/runner.py); measure the same way.
    gc.collect()
    gc.freeze()
    p50, p99 = time_calls(shipped.screen, messages, ROUNDS)
    print(f"safety screen ({len(messages)} dev messages): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    screened = [shipped.screen(question) for question in questions]
    p50, p99 = time_calls(shipped.finish, screened, ROUNDS)
    print(
        f"shipped base ({len(knowledge.entries)} entries): matching p50 {p50:.3f} ms,"
        f" p99 {p99:.3f} ms"
    )
    p50, p99 = time_calls(shipped.respond, questions, ROUNDS // 2)
    print(f"shipped base: whole respond p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    shipped_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory with the shipped base: {shipped_rss:.0f} MiB")

    large_base = synthetic(knowledge, 10_000)
    os.environ[CACHE_VARIABLE] = str(cache / "synthetic")
    start = time.perf_counter()
    large = Responder(large_base)
    os.environ[CACHE_VARIABLE] = str(cache / "shipped")
    gc.collect()
    gc.freeze()
    build = time.perf_counter() - start
    screened = [large.screen(question) for question in questions]
    p50, p99 = time_calls(large.finish, screened, ROUNDS // 4)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"synthetic base ({len(large_base.entries)} entries): matching p50 {p50:.3f} ms,"
        f" p99 {p99:.3f} ms (index built in {build:.2f} s)"
    )
    print(f"peak resident memory with the 10,000-entry base loaded too: {peak:.0f} MiB")
    print(f"`ketamine-bot ask` start-up to answer (median of 5): {startup_seconds():.3f} s")


if __name__ == "__main__":
    main()
