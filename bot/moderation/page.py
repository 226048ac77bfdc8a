"""The knowledge report as one self-contained HTML page: inline CSS and SVG, no scripts.

Moderators open the file in any browser, offline, or attach it to an e-mail; nothing is
fetched from anywhere, and every piece of member text is escaped.
"""

from __future__ import annotations

from html import escape

from bot.moderation.report import Day, Report

KIND_COLOURS = {
    "answer": "#009E73",
    "clarify": "#56B4E9",
    "fallback": "#E69F00",
    "crisis": "#D55E00",
    "check_in": "#000000",
    "advice": "#CC79A7",
    "not_covered": "#F0E442",
    "sources": "#0072B2",
    "help": "#999999",
}
"""Okabe-Ito colours (and a grey), told apart with every common colour-vision deficiency.

Every reply kind has its own, so no two kinds in a stacked bar look alike."""
OTHER_COLOUR = "#CCCCCC"
"""For a kind this version does not know (rows written by a newer bot)."""

CHART_WIDTH = 640
CHART_HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 8, 12, 28
_BAR_SHARE = 0.8

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.4; }
h1 { margin-bottom: .25rem; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.section { color: #666; font-size: .85em; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em; }
svg text { font-size: 11px; fill: #333; }
code { font-size: .9em; }
""".strip()


def _number(value: float) -> str:
    return f"{value:.1f}"


def render_chart(daily: list[Day], kinds: tuple[str, ...]) -> str:
    """A stacked bar per day, one colour per reply kind, with a tooltip on every segment."""
    plot_width = CHART_WIDTH - _LEFT - _RIGHT
    plot_height = CHART_HEIGHT - _TOP - _BOTTOM
    baseline = _TOP + plot_height
    top = max((day.total for day in daily), default=0) or 1
    step = plot_width / max(len(daily), 1)
    bar = max(step * _BAR_SHARE, 1.0)
    first, last = (daily[0].day, daily[-1].day) if daily else (None, None)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="Questions per day by reply kind, {first} to {last}">',
        f'<line x1="{_LEFT}" y1="{baseline}" x2="{CHART_WIDTH - _RIGHT}" y2="{baseline}" '
        'stroke="#999"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{CHART_WIDTH - _RIGHT}" y2="{_TOP}" '
        'stroke="#ddd" stroke-dasharray="2,3"/>',
        f'<text x="{_LEFT - 4}" y="{baseline + 4}" text-anchor="end">0</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end">{top}</text>',
    ]
    for index, day in enumerate(daily):
        x = _LEFT + index * step + (step - bar) / 2
        y = float(baseline)
        for kind in kinds:
            count = day.counts.get(kind, 0)
            if not count:
                continue
            height = count / top * plot_height
            y -= height
            colour = KIND_COLOURS.get(kind, OTHER_COLOUR)
            parts.append(
                f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(bar)}" '
                f'height="{_number(height)}" fill="{colour}">'
                f"<title>{day.day.isoformat()} · {escape(kind)}: {count}</title></rect>"
            )
    if daily:
        parts.append(f'<text x="{_LEFT}" y="{CHART_HEIGHT - 8}">{first}</text>')
        parts.append(
            f'<text x="{CHART_WIDTH - _RIGHT}" y="{CHART_HEIGHT - 8}" '
            f'text-anchor="end">{last}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(kinds: tuple[str, ...]) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{KIND_COLOURS.get(kind, OTHER_COLOUR)}">'
        f"</span>{escape(kind)}</li>"
        for kind in kinds
    )
    return f'<ul class="legend">{items}</ul>'


def _table(headers: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    """An HTML table; ``headers`` are (label, numeric); cells arrive already escaped."""
    head = "".join(
        f'<th class="n">{label}</th>' if n else f"<th>{label}</th>" for label, n in headers
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if numeric else f"<td>{cell}</td>"
            for cell, (_label, numeric) in zip(row, headers, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _chart_section(report: Report) -> list[str]:
    parts = [f"<h2>Questions per day (last {report.days} days)</h2>"]
    if not report.questions_total:
        return [*parts, "<p>No questions in this period.</p>"]
    busy_days = [day for day in report.daily if day.total]
    rows = [
        [
            day.day.isoformat(),
            *(str(day.counts.get(kind, 0)) for kind in report.kinds),
            str(day.total),
        ]
        for day in busy_days
    ]
    headers = [("Day", False), *((escape(kind), True) for kind in report.kinds), ("Total", True)]
    return [
        *parts,
        f"<p>{report.questions_total} questions.</p>",
        render_chart(report.daily, report.kinds),
        _legend(report.kinds),
        "<details><summary>The numbers (days with questions)</summary>",
        _table(headers, rows),
        "</details>",
    ]


def _unanswered_section(report: Report) -> list[str]:
    parts = [f"<h2>Unanswered questions (last {report.days} days)</h2>"]
    if not report.unanswered:
        return [*parts, "<p>None: the bot answered everything it was asked.</p>"]
    rows = [
        [str(group.count), str(group.wordings), escape(group.example)]
        for group in report.unanswered
    ]
    return [
        *parts,
        "<p>Near-identical wordings are counted together. Consider an entry or a phrasing "
        "for the top ones.</p>",
        _table([("Asked", True), ("Wordings", True), ("Example", False)], rows),
    ]


def _stale_section(report: Report) -> list[str]:
    parts = [f"<h2>Entries to review (reviewed more than {report.stale_days} days ago)</h2>"]
    if not report.stale:
        return [
            *parts,
            f"<p>None: every entry was reviewed in the last {report.stale_days} days.</p>",
        ]
    rows = [
        [
            f"<code>{escape(item.entry_id)}</code>",
            escape(item.question),
            item.reviewed.isoformat(),
            str(item.age_days),
        ]
        for item in report.stale
    ]
    headers = [("Entry", False), ("Question", False), ("Reviewed", False), ("Days ago", True)]
    return [*parts, _table(headers, rows)]


def _entries_section(report: Report) -> list[str]:
    rows = []
    for figures in report.entries:
        question = escape(figures.question)
        if figures.section:
            question += f'<br><span class="section">{escape(figures.section)}</span>'
        rows.append(
            [
                f"<code>{escape(figures.entry_id)}</code>",
                question,
                str(figures.answers),
                str(figures.helpful),
                str(figures.not_helpful),
                figures.reviewed.isoformat() if figures.reviewed else "–",
            ]
        )
    headers = [
        ("Entry", False),
        ("Question", False),
        ("Answered", True),
        ("Helpful", True),
        ("Not helpful", True),
        ("Reviewed", False),
    ]
    return ["<h2>Entries</h2>", _table(headers, rows)]


def render_html(report: Report) -> str:
    """The whole page."""
    meta = (
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC · knowledge base version "
        f"{escape(report.knowledge_version)} · data: <code>{escape(report.database)}</code> · "
        f"records are kept {report.retention_days} days."
    )
    body = [
        "<h1>Knowledge report</h1>",
        f'<p class="meta">{meta}</p>',
        *_chart_section(report),
        *_unanswered_section(report),
        *_stale_section(report),
        *_entries_section(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Ketamine bot: knowledge report</title>\n"
        f"<style>\n{_STYLE}\n</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
