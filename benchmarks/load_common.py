"""What ``slack_load.py`` and ``discord_load.py`` share: variants, processes, CPU, the table.

Not run by itself. Each load script starts every variant (the bare echo stack and the bot
in its configurations) as its own process, pinned as ``Variant.cores`` says, while the load
driver and the platform fake run in the script's own process, pinned to the other core.
CPU per answer is read from ``/proc/<pid>/stat`` (user + system time of every thread of
the server process) just before the measured load and once its last answer has arrived.

Targets (issue 12, item 4): with the fixed reply, answers/s >= 0.9x the echo, CPU per
answer <= 1.2x the echo, 0 lost; with the real core, CPU per answer <= the core's cost
plus 1.2x the echo's. Exit status 1 when a target is missed, an answer lost, or a reply
could ping someone.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
TICKS = os.sysconf("SC_CLK_TCK")
READY = re.compile(r"BENCH READY(?: port=(\d+))?")
BOT_CORE = 0
DRIVER_CORE = 1

# the targets (issue 12, item 4)
FIXED_RATE_RATIO = 0.9  # fixed reply: answers/s >= 0.9 x echo
FIXED_CPU_RATIO = 1.2  # fixed reply: CPU per answer <= 1.2 x echo
REAL_CPU_ECHO_SHARE = 1.2  # real core: CPU per answer <= core's cost + 1.2 x echo's


@dataclass(frozen=True)
class Variant:
    """One server configuration measured under the same load."""

    name: str
    kind: str  # "echo", "bot", or "floor" (acks only, answers nothing: Slack's --baseline)
    core: str = "real"  # bot only: "real" or "fixed" (the core replaced by a fixed reply)
    workers: int = 1
    replicas: int = 1
    cores: tuple[frozenset[int], ...] = (frozenset({BOT_CORE}),)  # one set per process
    extra: tuple[str, ...] = ()  # more arguments for the server

    @property
    def placement(self) -> str:
        return "+".join(",".join(map(str, sorted(c))) for c in self.cores)


def variants(names: Sequence[str], *, slack: bool) -> list[Variant]:
    """The named variants, in the order given (``echo`` first makes the ratios)."""
    both = frozenset({BOT_CORE, DRIVER_CORE})
    known = {
        "aiohttp": Variant("aiohttp", "floor"),
        "echo": Variant("echo", "echo"),
        "echo-lean": Variant("echo-lean", "echo", extra=("--lean",)),
        "fixed": Variant("fixed", "bot", core="fixed"),
        "real1": Variant("real1", "bot", workers=1),
        "real2": Variant("real2", "bot", workers=2),
        "real2-2cores": Variant("real2-2cores", "bot", workers=2, cores=(both,)),
    }
    if not slack:
        del known["aiohttp"], known["echo-lean"]  # Slack only
    if slack:
        known["replicas"] = Variant(
            "replicas",
            "bot",
            workers=1,
            replicas=2,
            cores=(frozenset({BOT_CORE}), frozenset({DRIVER_CORE})),
        )
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown variant(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


@dataclass
class Row:
    """What one variant measured."""

    variant: Variant
    sent: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0  # first send to last answer
    cpu_seconds: float = 0.0  # all server processes, during the measured load
    database_cpu: float | None = None  # the shared PostgreSQL's, when measured
    driver_cpu: float = 0.0
    ack_ms: list[float] = field(default_factory=list)
    e2e_ms: list[float] = field(default_factory=list)
    failed_acks: int = 0
    load: float = 0.0  # 1-minute load average at the end
    warnings: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # like notes, but they fail the run
    problems: list[str] = field(default_factory=list)  # the servers' warning and error lines
    by_thread: dict[str, float] = field(default_factory=dict)  # CPU s by thread name (bot)
    system_seconds: float = 0.0  # of cpu_seconds, the kernel's share
    switches: int = 0  # context switches of the servers' live threads during the load

    @property
    def done(self) -> int:
        """Answers; for the floor, which answers nothing, acks."""
        return len(self.ack_ms) if self.variant.kind == "floor" else self.answered

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_answer(self) -> float:
        return self.cpu_seconds * 1000 / self.done if self.done else float("inf")


def combine(rows: list[Row]) -> list[Row]:
    """One row per variant over several rounds: the median answers/s and CPU per answer,
    latencies pooled, counts summed (variants in their first order)."""
    names = list(dict.fromkeys(row.variant.name for row in rows))
    combined = []
    for name in names:
        mine = [row for row in rows if row.variant.name == name]
        merged = Row(mine[0].variant)
        for row in mine:
            merged.sent += row.sent
            merged.answered += row.answered
            merged.lost += row.lost
            merged.duplicated += row.duplicated
            merged.failed_acks += row.failed_acks
            merged.ack_ms += row.ack_ms
            merged.e2e_ms += row.e2e_ms
            merged.warnings += row.warnings
            merged.errors += row.errors
            merged.driver_cpu += row.driver_cpu
            merged.faults += row.faults
        done = merged.done
        rate = statistics.median(row.rate for row in mine)
        cpu_ms = statistics.median(row.cpu_ms_per_answer for row in mine)
        merged.seconds = done / rate if rate else 0.0
        merged.cpu_seconds = cpu_ms * done / 1000
        merged.load = statistics.fmean(row.load for row in mine)
        databases = [row.database_cpu for row in mine if row.database_cpu is not None]
        merged.database_cpu = sum(databases) if databases else None
        combined.append(merged)
    return combined


def reference(rows: list[Row]) -> Row | None:
    """The row the ratios are to: ``echo`` (the bare defaults), else any echo."""
    echoes = [row for row in rows if row.variant.kind == "echo"]
    return next((row for row in echoes if row.variant.name == "echo"), None) or next(
        iter(echoes), None
    )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU of every thread of ``pid`` so far (seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS  # utime, stime (fields 14, 15)


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches so far of ``pid``'s live threads."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if "ctxt_switches:" in line:
                total += int(line.split()[-1])
    return total


def database_cpu() -> float | None:
    """CPU so far of the throw-away PostgreSQL (``with_postgres.sh`` exports its pid file):
    the postmaster, its reaped children, and its live backends."""
    pid_file = os.environ.get("BENCH_PG_PIDFILE")
    if not pid_file or not Path(pid_file).is_file():
        return None
    postmaster = int(Path(pid_file).read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(value) for value in fields[11:15]) / TICKS  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == postmaster:
            total += (int(stat[11]) + int(stat[12])) / TICKS
    return total


def thread_split(
    before: dict[int, float], after: dict[int, float], names: dict[int, str]
) -> dict[str, float]:
    """CPU spent between two ``Server.thread_cpu`` readings, by thread name (numbers
    dropped, so the pool's workers add up under one name); threads gone by the second
    reading are lost, which the total from ``/proc/<pid>/stat`` still counts."""
    split: dict[str, float] = {}
    for tid, seconds in after.items():
        name = re.sub(r"[_-]?\d+(?=\b|_|$)", "", names.get(tid, f"tid{tid}")) or "?"
        split[name] = split.get(name, 0.0) + seconds - before.get(tid, 0.0)
    return {name: value for name, value in sorted(split.items(), key=lambda kv: -kv[1])}


def split_line(row: Row) -> str:
    if not row.by_thread or not row.answered:
        return ""
    parts = [
        f"{name} {seconds * 1000 / row.answered:.2f}"
        for name, seconds in row.by_thread.items()
        if seconds > 0
    ]
    return "    CPU ms per answer by thread: " + ", ".join(parts)


def pin_driver() -> None:
    with_core = {DRIVER_CORE} if (os.cpu_count() or 1) > DRIVER_CORE else {0}
    os.sched_setaffinity(0, with_core)


@dataclass(frozen=True)
class Snapshot:
    """One server's counters at one moment: ``measured`` takes two of them."""

    user: float
    system: float
    threads: dict[int, float]
    switches: int


class Server:
    """One server process, pinned; its stderr drained and its warnings counted."""

    def __init__(self, process: asyncio.subprocess.Process, port: int | None) -> None:
        self.process = process
        self.port = port
        self.lines: list[str] = []
        self._drain: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, command: list[str], environ: dict[str, str], cores: frozenset[int], timeout: float
    ) -> Server:
        usable = cores & set(range(os.cpu_count() or 1)) or {0}
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=environ,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=lambda: os.sched_setaffinity(0, usable),
        )
        assert process.stderr is not None
        server = cls(process, None)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                process.kill()
                await process.wait()
                tail = "\n".join(server.lines[-20:])
                raise RuntimeError(f"not ready in {timeout:.0f} s: {shlex.join(command)}\n{tail}")
            try:
                raw = await asyncio.wait_for(process.stderr.readline(), remaining)
            except asyncio.TimeoutError:
                raw = b"(no ready line in time)"
                deadline = time.monotonic()
            if not raw:
                code = await process.wait()
                tail = "\n".join(server.lines[-20:])
                raise RuntimeError(f"exited ({code}) before ready: {shlex.join(command)}\n{tail}")
            line = raw.decode(errors="replace").rstrip()
            server.lines.append(line)
            if match := READY.search(line):
                server.port = int(match.group(1)) if match.group(1) else None
                break
        server._drain = asyncio.create_task(server._read_rest())
        return server

    async def _read_rest(self) -> None:
        assert self.process.stderr is not None
        while raw := await self.process.stderr.readline():
            self.lines.append(raw.decode(errors="replace").rstrip())

    def snapshot(self) -> Snapshot:
        """CPU (all threads, and each live one) and context switches so far."""
        user, system = cpu_split(self.process.pid)
        return Snapshot(user, system, self.thread_cpu(), context_switches(self.process.pid))

    def thread_cpu(self) -> dict[int, float]:
        """CPU so far of each live thread, by native id."""
        times = {}
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            times[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICKS
        return times

    def thread_names(self) -> dict[int, str]:
        """What the bot said its threads were called when it was asked to stop."""
        for line in reversed(self.lines):
            if line.startswith("BENCH THREADS "):
                return {int(k): v for k, v in json.loads(line[len("BENCH THREADS ") :]).items()}
        return {}

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.terminate()
        try:
            code = await asyncio.wait_for(self.process.wait(), 30)
        except asyncio.TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self._drain is not None:
            await self._drain
        return code

    def problems(self) -> list[str]:
        return [line for line in self.lines if " WARNING " in line or " ERROR " in line]

    def count(self, level: str) -> int:
        return sum(1 for line in self.lines if f" {level} " in line)


BARE_SERVER = """
import asyncio, signal, sys
from aiohttp import web

async def ok(request):
    await request.read()
    return web.Response()

async def main():
    app = web.Application()
    app.router.add_post("/slack/events", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"BENCH READY port={runner.addresses[0][1]}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()

asyncio.run(main())
"""


def server_command(variant: Variant, platform_name: str, extra: list[str]) -> list[str]:
    """The command line that starts ``variant`` for ``platform_name``."""
    if variant.kind == "floor":
        return [sys.executable, "-c", BARE_SERVER]
    if variant.kind == "echo":
        return [
            sys.executable,
            str(BENCHMARKS / f"echo_{platform_name}.py"),
            *extra,
            *variant.extra,
        ]
    return [
        sys.executable,
        str(BENCHMARKS / "load_bot.py"),
        platform_name,
        "--core",
        variant.core,
        "--workers",
        str(variant.workers),
        *extra,
        *variant.extra,
    ]


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


def table(rows: list[Row], *, acks: bool) -> str:
    """Absolute figures and ratios to the echo (the first row named echo)."""
    echo = reference(rows)
    titles = ["variant", "cores", "workers", "answered", "lost", "dup", "answers/s", "x echo"]
    titles += ["CPU ms/ans", "x echo"]
    if acks:
        titles += ["ack p50", "ack p99"]
    titles += ["e2e p50", "e2e p99", "load"]
    lines = [titles]
    for row in rows:
        rate_ratio = row.rate / echo.rate if echo and echo.rate else float("nan")
        cpu_ratio = (
            row.cpu_ms_per_answer / echo.cpu_ms_per_answer
            if echo and echo.answered
            else float("nan")
        )
        cells = [
            row.variant.name,
            row.variant.placement,
            "-" if row.variant.kind != "bot" else f"{row.variant.replicas}x{row.variant.workers}",
            f"{row.answered}/{row.sent}",
            str(row.lost),
            str(row.duplicated),
            f"{row.rate:.0f}",
            f"{rate_ratio:.2f}",
            f"{row.cpu_ms_per_answer:.2f}",
            f"{cpu_ratio:.2f}",
        ]
        if acks:
            cells += [f"{percentile(row.ack_ms, 0.5):.1f}", f"{percentile(row.ack_ms, 0.99):.1f}"]
        cells += [
            f"{percentile(row.e2e_ms, 0.5):.0f}",
            f"{percentile(row.e2e_ms, 0.99):.0f}",
            f"{row.load:.2f}",
        ]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(titles))]
    out = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    out.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(out)


def print_tables(rows: list[Row], rounds: int, *, acks: bool) -> list[Row]:
    """Each round's table (when more than one), then the one the verdicts are read from."""
    if rounds <= 1:
        print(table(rows, acks=acks))
        return rows
    per_round = len(rows) // rounds
    for number in range(rounds):
        print(f"round {number + 1}:")
        print(table(rows[number * per_round : (number + 1) * per_round], acks=acks))
        print()
    combined = combine(rows)
    print(
        f"all {rounds} rounds: median answers/s and CPU per answer, latencies pooled, "
        "counts summed:"
    )
    print(table(combined, acks=acks))
    return combined


def verdicts(rows: list[Row], core_ms: float) -> tuple[list[str], bool]:
    """The issue's targets, each with the figures it was judged on; all met?"""
    echo = reference(rows)
    if echo is None or not echo.answered:
        return ["no echo figures: no ratios, no verdicts"], False
    lines, all_met = [], True
    for row in rows:
        if row.variant.kind != "bot":
            continue
        checks: list[tuple[str, bool]] = [(f"lost {row.lost} == 0", row.lost == 0)]
        if row.variant.core == "fixed":
            rate_ratio = row.rate / echo.rate
            cpu_ratio = row.cpu_ms_per_answer / echo.cpu_ms_per_answer
            checks += [
                (
                    f"answers/s {rate_ratio:.2f}x echo >= {FIXED_RATE_RATIO}",
                    rate_ratio >= FIXED_RATE_RATIO,
                ),
                (
                    f"CPU/answer {cpu_ratio:.2f}x echo <= {FIXED_CPU_RATIO}",
                    cpu_ratio <= FIXED_CPU_RATIO,
                ),
            ]
        else:
            budget = core_ms + REAL_CPU_ECHO_SHARE * echo.cpu_ms_per_answer
            checks.append(
                (
                    f"CPU/answer {row.cpu_ms_per_answer:.2f} ms <= core {core_ms:.2f} + "
                    f"1.2 x echo {echo.cpu_ms_per_answer:.2f} = {budget:.2f} ms",
                    row.cpu_ms_per_answer <= budget,
                )
            )
        met = all(ok for _, ok in checks)
        all_met = all_met and met
        said = "; ".join(f"{text} {'ok' if ok else 'MISSED'}" for text, ok in checks)
        lines.append(f"  {row.variant.name:<13} {'met' if met else 'MISSED'}: {said}")
    return lines, all_met


# -- what both load scripts do around their own measurement ---------------------------------

# every variable the bot reads that could point a server elsewhere than this run's fake
BOT_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DISCORD_TOKEN",
    "DISCORD_GUILD_ID",
    "DISCORD_SHARDED",
    "SHARD_COUNT",
    "SHARD_IDS",
    "METRICS_PORT",
    "PORT",
    "DATABASE_URL",
    "STORAGE_PATH",
    "STORAGE_SECRET_FILE",
)


def server_environment(**settings: str) -> dict[str, str]:
    """This process's environment without the bot's variables, plus ``settings``.

    The storage secret is fixed, so no ``data/`` file is written and every replica agrees.
    """
    environ = {name: value for name, value in os.environ.items() if name not in BOT_VARIABLES}
    environ.update(
        HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
        STORAGE_SECRET="benchmark-only-secret-" + "0" * 32,
    )
    environ.update(settings)
    return environ


def wordings(knowledge: Path) -> list[str]:
    """Every canonical question and phrasing of the knowledge base: the load's questions."""
    from bot.knowledge import load_knowledge

    loaded = load_knowledge(knowledge)
    return [
        wording
        for entry in loaded.entries.values()
        for wording in (entry.question, *entry.phrasings)
    ]


Readings = list[tuple[Snapshot, Snapshot]]  # per server: before and after the load


def measured(row: Row, servers: Sequence[Server], before: Sequence[Snapshot]) -> Readings:
    """Fill ``row`` with the CPU the servers spent since ``before`` (one snapshot each)."""
    after = [server.snapshot() for server in servers]
    readings = list(zip(before, after, strict=True))
    row.cpu_seconds = sum(a.user + a.system - b.user - b.system for b, a in readings)
    row.system_seconds = sum(a.system - b.system for b, a in readings)
    row.switches = sum(a.switches - b.switches for b, a in readings)
    row.load = os.getloadavg()[0]
    return readings


def stopped(row: Row, servers: Sequence[Server], readings: Readings) -> None:
    """Once the servers have stopped: their warnings and errors, and (the bot's) CPU by
    thread, named as each server said when it was asked to stop."""
    row.warnings = sum(server.count("WARNING") for server in servers)
    row.errors = sum(server.count("ERROR") for server in servers)
    row.problems = [line for server in servers for line in server.problems()]
    if row.variant.kind != "bot":
        return
    for server, (before, after) in zip(servers, readings, strict=True):
        split = thread_split(before.threads, after.threads, server.thread_names())
        for name, seconds in split.items():
            row.by_thread[name] = row.by_thread.get(name, 0.0) + seconds


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


def print_row(row: Row, round_name: str) -> None:
    """One variant's figures as soon as it has been measured."""
    told = [*row.notes, *row.faults]
    notes = f"; {'; '.join(told)}" if told else ""
    acks = f"{row.failed_acks} failed acks, " if row.ack_ms or row.failed_acks else ""
    print(
        f"  {row.variant.name}{round_name}: "
        f"{row.answered}/{row.sent} answered in {row.seconds:.2f} s, "
        f"server CPU {row.cpu_seconds:.2f} s ({row.system_seconds:.2f} s system, "
        f"{row.switches / max(row.done, 1):.1f} context switches per answer), "
        f"driver CPU {row.driver_cpu:.2f} s, {acks}"
        f"{row.warnings} warnings, {row.errors} errors, load {row.load:.2f}{notes}",
        flush=True,
    )
    if split := split_line(row):
        print(split)
    for line in row.problems[:5]:
        print(f"    {line[:300]}")


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
