"""The knowledge report: what members ask, what helps, and what needs a moderator's eye.

``build_report`` gathers every figure once into a plain value; ``render_markdown`` here and
``bot.moderation.page.render_html`` only lay that value out, so both formats always agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.core.reply import ReplyKind
from bot.exitcodes import EXIT_CONFIG, EXIT_OK, EXIT_USAGE
from bot.knowledge import KnowledgeBase
from bot.moderation.grouping import UnansweredGroup
from bot.storage import StorageError, Store

DEFAULT_DAYS = 30
DEFAULT_STALE_DAYS = 180
DEFAULT_UNANSWERED_LIMIT = 20
KIND_ORDER = tuple(kind.value for kind in ReplyKind)
REMOVED_QUESTION = "(no longer in the knowledge base)"


@dataclass(frozen=True)
class EntryFigures:
    """One entry's use and votes."""

    entry_id: str
    question: str
    section: str
    answers: int
    helpful: int
    not_helpful: int
    reviewed: dt.date | None


@dataclass(frozen=True)
class StaleEntry:
    """An entry whose ``reviewed`` date is older than the configured age."""

    entry_id: str
    question: str
    reviewed: dt.date
    age_days: int


@dataclass(frozen=True)
class Day:
    """Questions on one UTC day, by reply kind."""

    day: dt.date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Every question that day."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class Report:
    """Every figure the report shows, gathered at one moment."""

    generated_at: dt.datetime
    knowledge_version: str
    database: str
    retention_days: int
    days: int
    stale_days: int
    entries: list[EntryFigures]
    stale: list[StaleEntry]
    unanswered: list[UnansweredGroup]
    daily: list[Day]
    kinds: tuple[str, ...]

    @property
    def questions_total(self) -> int:
        """Questions in the chart's period."""
        return sum(day.total for day in self.daily)


def build_report(
    store: Store,
    knowledge: KnowledgeBase,
    *,
    days: int = DEFAULT_DAYS,
    stale_days: int = DEFAULT_STALE_DAYS,
    unanswered_limit: int = DEFAULT_UNANSWERED_LIMIT,
) -> Report:
    """Read the store and the knowledge base; ``days`` bounds the chart and the queue."""
    now = store.now()
    today = now.date()
    answers = store.answer_counts()
    votes = store.votes()
    entry_ids = list(knowledge.entries) + sorted(
        (set(answers) | set(votes)) - set(knowledge.entries)
    )
    entries = []
    for entry_id in entry_ids:
        entry = knowledge.entries.get(entry_id)
        vote = votes.get(entry_id)
        entries.append(
            EntryFigures(
                entry_id=entry_id,
                question=entry.question if entry else REMOVED_QUESTION,
                section=knowledge.section_of(entry_id) if entry else "",
                answers=answers.get(entry_id, 0),
                helpful=vote.helpful if vote else 0,
                not_helpful=vote.not_helpful if vote else 0,
                reviewed=entry.reviewed if entry else None,
            )
        )
    entries.sort(key=lambda figures: (-figures.answers, -figures.helpful, figures.entry_id))
    stale = sorted(
        (
            StaleEntry(entry.id, entry.question, entry.reviewed, (today - entry.reviewed).days)
            for entry in knowledge.entries.values()
            if (today - entry.reviewed).days > stale_days
        ),
        key=lambda item: (item.reviewed, item.entry_id),
    )
    daily = _dense_days(store.daily_counts(days=days), today, days)
    return Report(
        generated_at=now,
        knowledge_version=knowledge.version,
        database=store.location,
        retention_days=store.retention.days,
        days=days,
        stale_days=stale_days,
        entries=entries,
        stale=stale,
        unanswered=store.unanswered(days=days, limit=unanswered_limit),
        daily=daily,
        kinds=_kinds_seen(daily),
    )


def _dense_days(rows: list[tuple[dt.date, str, int]], today: dt.date, days: int) -> list[Day]:
    """One ``Day`` for every day of the period, quiet days included, so the chart has gaps."""
    by_day: dict[dt.date, dict[str, int]] = {}
    for day, kind, count in rows:
        by_day.setdefault(day, {})[kind] = count
    first = today - dt.timedelta(days=days - 1)
    return [
        Day(day, by_day.get(day, {}))
        for day in (first + dt.timedelta(days=offset) for offset in range(days))
    ]


def _kinds_seen(daily: list[Day]) -> tuple[str, ...]:
    """Reply kinds present in the period, in the core's order (unknown kinds last)."""
    seen = {kind for day in daily for kind in day.counts}
    known = [kind for kind in KIND_ORDER if kind in seen]
    return (*known, *sorted(seen - set(KIND_ORDER)))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def markdown_cell(text: str) -> str:
    """Member text made inert in a Markdown table cell (no markup, links or raw HTML)."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report) -> str:
    """The report as Markdown, for a wiki page or a pull-request comment."""
    lines = [
        "# Knowledge report",
        "",
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC · knowledge base version "
        f"{report.knowledge_version} · data: `{report.database}` · records are kept "
        f"{report.retention_days} days.",
        "",
        f"## Questions per day (last {report.days} days)",
        "",
    ]
    busy_days = [day for day in report.daily if day.total]
    if busy_days:
        lines.append("| Day | " + " | ".join(report.kinds) + " | Total |")
        lines.append("|---|" + "---:|" * (len(report.kinds) + 1))
        for day in busy_days:
            counts = " | ".join(str(day.counts.get(kind, 0)) for kind in report.kinds)
            lines.append(f"| {day.day.isoformat()} | {counts} | {day.total} |")
        lines.append("")
        lines.append(f"{report.questions_total} questions; days without questions are left out.")
    else:
        lines.append("No questions in this period.")
    lines += ["", f"## Unanswered questions (last {report.days} days)", ""]
    if report.unanswered:
        lines += ["| Asked | Wordings | Example |", "|---:|---:|---|"]
        lines += [
            f"| {group.count} | {group.wordings} | {markdown_cell(group.example)} |"
            for group in report.unanswered
        ]
    else:
        lines.append("None: the bot answered everything it was asked.")
    lines += ["", f"## Entries to review (reviewed more than {report.stale_days} days ago)", ""]
    if report.stale:
        lines += ["| Entry | Question | Reviewed | Days ago |", "|---|---|---|---:|"]
        lines += [
            f"| `{item.entry_id}` | {markdown_cell(item.question)} | "
            f"{item.reviewed.isoformat()} | {item.age_days} |"
            for item in report.stale
        ]
    else:
        lines.append(f"None: every entry was reviewed in the last {report.stale_days} days.")
    lines += [
        "",
        "## Entries",
        "",
        "| Entry | Question | Answered | Helpful | Not helpful | Reviewed |",
        "|---|---|---:|---:|---:|---|",
    ]
    for figures in report.entries:
        reviewed = figures.reviewed.isoformat() if figures.reviewed else "–"
        lines.append(
            f"| `{figures.entry_id}` | {markdown_cell(figures.question)} | {figures.answers} | "
            f"{figures.helpful} | {figures.not_helpful} | {reviewed} |"
        )
    return "\n".join(lines) + "\n"


def report_command(args: argparse.Namespace) -> int:
    """``ketamine-bot report``: exit 0, or 2 with one line when settings, database or file fail.

    Reads ``.env`` first, as ``run`` does, so the report sees the bot's own database. A broken
    knowledge base raises ``KnowledgeError``, which the CLI turns into exit 1.
    """
    from bot.knowledge import default_knowledge_dir, load_knowledge
    from bot.moderation.page import render_html
    from bot.settings import SettingsProblem, export_env_file, load_settings

    try:
        export_env_file()
        settings = load_settings()
    except SettingsProblem as problem:
        for line in problem.lines:
            print(f"ketamine-bot report: {line}", file=sys.stderr)
        return EXIT_CONFIG
    knowledge = load_knowledge(
        getattr(args, "knowledge", None) or settings.knowledge_dir or default_knowledge_dir()
    )
    try:
        with Store.from_settings(settings) as store:
            report = build_report(store, knowledge, days=args.days, stale_days=args.stale_days)
    except StorageError as error:
        print(f"ketamine-bot report: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"ketamine-bot report: the database could not be read: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    text = render_html(report) if args.format == "html" else render_markdown(report)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"ketamine-bot report: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"Wrote {args.output}: {len(report.entries)} entries, {len(report.stale)} to review, "
        f"{len(report.unanswered)} unanswered questions, {report.questions_total} questions "
        f"in the last {report.days} days.",
        file=sys.stderr,
    )
    return EXIT_OK
