"""What a load run measures and how it is judged: variants, rows, the table, the verdicts.

One of the three modules the load scripts share (see ``load_common.py``): plain data and
text, nothing here starts a process or reads ``/proc``.

Targets (issue 12, item 4): with the fixed reply, answers/s >= 0.9x the echo, CPU per
answer <= 1.2x the echo, 0 lost; with the real core, CPU per answer <= the core's cost
plus 1.2x the echo's.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

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


def split_line(row: Row) -> str:
    if not row.by_thread or not row.answered:
        return ""
    parts = [
        f"{name} {seconds * 1000 / row.answered:.3f}"
        for name, seconds in row.by_thread.items()
        if seconds > 0
    ]
    return "    CPU ms per answer by thread: " + ", ".join(parts)


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
