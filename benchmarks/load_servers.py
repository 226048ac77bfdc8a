"""The servers a load run measures: started pinned, their CPU read from ``/proc``.

One of the three modules the load scripts share (see ``load_common.py``). Each variant's
server is a process of its own, pinned as ``Variant.cores`` says; CPU per answer is read
from ``/proc/<pid>/stat`` (user + system time of every thread of the server process)
just before the measured load and once its last answer has arrived, and per thread from
``/proc/<pid>/task`` for the breakdown by thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from load_results import Row, Variant

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
TICKS = os.sysconf("SC_CLK_TCK")
READY = re.compile(r"BENCH READY(?: port=(\d+))?")


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
