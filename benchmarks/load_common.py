"""What ``slack_load.py`` and ``discord_load.py`` do around their own measurement.

Not run by itself. Each load script starts every variant (the bare echo stack and the bot
in its configurations) as its own process (``load_servers.py``), pinned as
``Variant.cores`` says, while the load driver and the platform fake run in the script's
own process, pinned to the other core; the rows, the table and the verdicts are
``load_results.py``. This module holds the options both scripts take, the loop over
variants and rounds, the core's own cost, and the report.

Exit status 1 when a target is missed, an answer lost, or a reply could ping someone.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from load_results import (
    DRIVER_CORE,
    Row,
    Variant,
    print_row,
    print_tables,
    verdicts,
)

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


def pin_driver() -> None:
    with_core = {DRIVER_CORE} if (os.cpu_count() or 1) > DRIVER_CORE else {0}
    os.sched_setaffinity(0, with_core)


def core_cost(questions: list[str], knowledge: Path) -> tuple[float, float, float, str]:
    """The core alone, one message at a time: bench_core's respond p50 (ms, its dev
    questions); on this load's own questions the wall p50 and mean CPU (ms), and the
    kinds of reply they get."""
    sys.path.insert(0, str(BENCHMARKS))
    sys.path.insert(0, str(ROOT))
    from bench_core import time_calls  # the same timing loop as benchmarks/bench_core.py

    from bot.core.responder import Responder
    from bot.evaluation import load_cases
    from bot.knowledge import load_knowledge

    responder = Responder(load_knowledge(knowledge))
    gc.collect()
    gc.freeze()
    dev = [case.text for case in load_cases(ROOT / "tests" / "data" / "questions" / "dev.yaml")]
    bench_p50, _ = time_calls(responder.respond, dev, 1000)
    load_p50, _ = time_calls(responder.respond, questions, 1000)
    started = time.thread_time()
    rounds = 500
    for index in range(rounds):
        responder.respond(questions[index % len(questions)])
    load_cpu = (time.thread_time() - started) * 1000 / rounds
    kinds = collections.Counter(responder.respond(text).kind.value for text in questions)
    gc.unfreeze()
    mix = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    return bench_p50, load_p50, load_cpu, mix


def header(argv: list[str], description: str) -> None:
    command = shlex.join([Path(sys.executable).name, *argv])
    print(f"$ {command}")
    print(description)
    print(
        f"machine: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}; uptime: {_uptime()}"
    )
    sys.stdout.flush()


def _uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def wordings(knowledge: Path) -> list[str]:
    """Every canonical question and phrasing of the knowledge base: the load's questions."""
    from bot.knowledge import load_knowledge

    loaded = load_knowledge(knowledge)
    return [
        wording
        for entry in loaded.entries.values()
        for wording in (entry.question, *entry.phrasings)
    ]


def add_arguments(parser: argparse.ArgumentParser, default_variants: str) -> None:
    """The options both load scripts take."""
    parser.add_argument("--warmup", type=int, default=50, help="uncounted mentions first (50)")
    parser.add_argument("--variants", default=default_variants, help=default_variants)
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the variants this many times, interleaved"
    )
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument(
        "--profile", type=Path, help="folder for cProfile stats of each bot's loop thread"
    )
    parser.add_argument("--answer-timeout", type=float, default=120.0)
    parser.add_argument("--start-timeout", type=float, default=120.0)


Measure = Callable[[Variant, Path], Awaitable[Row]]  # a variant, in a scratch folder


async def measure_all(
    platform_name: str,
    load: str,
    chosen: list[Variant],
    args: argparse.Namespace,
    questions: list[str],
    measure: Measure,
    *,
    acks: bool,
    times: str,
) -> int:
    """Say what the load is, measure every variant round after round (each row printed as
    it comes), then report; the exit status (see ``report``)."""
    print(
        f"{platform_name}: {load}; {args.warmup} warm-up mentions per server first; "
        f"{len(questions)} knowledge-base wordings"
    )
    print(
        f"cores: driver + fake {platform_name} pinned to core {DRIVER_CORE}; servers as in "
        "'cores' (workers column: processes x workers)"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"{platform_name.lower()}-load-") as workdir:
        for number, variant in [(n, v) for n in range(1, args.rounds + 1) for v in chosen]:
            row = await measure(variant, Path(workdir))
            rows.append(row)
            print_row(row, f" (round {number})" if args.rounds > 1 else "")
    return report(rows, questions, args, acks=acks, times=times)


def report(
    rows: list[Row], questions: list[str], args: argparse.Namespace, *, acks: bool, times: str
) -> int:
    """The tables, the core's own cost, the verdicts; exit status 1 when any target is missed
    or any answer lost (or faulty)."""
    print()
    rows = print_tables(rows, args.rounds, acks=acks)
    print(times)
    bench_p50, load_p50, load_cpu, mix = core_cost(questions, args.knowledge)
    print(
        f"core alone (bench_core.py's whole respond p50 on its dev questions): {bench_p50:.2f} ms;"
        f" on this load's wordings: p50 {load_p50:.2f} ms, mean CPU {load_cpu:.2f} ms"
    )
    print(f"the real core's replies to this load's wordings: {mix}")
    lines, met = verdicts(rows, bench_p50)
    print("targets:")
    print("\n".join(lines))
    print(f"uptime at the end: {_uptime()}")
    return 0 if met and not any(row.lost or row.faults for row in rows) else 1


def start(argv: list[str], description: str, run: Callable[[], Awaitable[int]]) -> int:
    """Say what runs where, pin this process to the driver's core, run the measurements."""
    header(argv, description)
    pin_driver()
    return asyncio.run(run())
