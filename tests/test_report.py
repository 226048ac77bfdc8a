"""`ketamine-bot report`: the page a moderator opens, for a database seeded day by day."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.reply import ReplyKind
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.moderation.page import render_html
from bot.moderation.report import build_report, render_markdown
from bot.storage import Store
from tests.conftest import KNOWLEDGE_DIR, ROOT
from tests.storage.conftest import FakeClock

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
TODAY = NOW.date()
REVIEWED = "2026-02-01"  # 29 days before NOW
SCRIPT = "<script>alert(1)</script> & does it help cats?"


def knowledge_copy(target: Path, today: dt.date = TODAY) -> Path:
    """The shipped knowledge base, reviewed 29 days before ``today``; two entries long before."""
    shutil.copytree(KNOWLEDGE_DIR, target)
    recent = (today - dt.timedelta(days=29)).isoformat()
    old = {"ptsd-what-is-it": 411, "study-design": 213}
    for path in (target / "entries").glob("*.yaml"):
        text = re.sub(r"(?m)^(\s+reviewed:) \S+$", rf"\1 {recent}", path.read_text())
        for entry_id, age in old.items():
            date = (today - dt.timedelta(days=age)).isoformat()
            text = re.sub(
                rf"(id: {entry_id}\n(?:.*\n)*?\s+reviewed:) {recent}", rf"\1 {date}", text
            )
        path.write_text(text)
    return target


@pytest.fixture(scope="module")
def seeded_knowledge(tmp_path_factory) -> KnowledgeBase:
    return load_knowledge(knowledge_copy(tmp_path_factory.mktemp("report") / "knowledge"))


@pytest.fixture(scope="module")
def knowledge_today(tmp_path_factory) -> KnowledgeBase:
    """For the command line, which runs on the real clock."""
    today = dt.datetime.now(dt.timezone.utc).date()
    return load_knowledge(knowledge_copy(tmp_path_factory.mktemp("cli") / "knowledge", today))


def seed(store: Store, knowledge: KnowledgeBase, clock: FakeClock | None = None) -> None:
    """Questions on three days of a week (and one older day), and votes."""
    service = BotService(knowledge)
    service.listeners.append(store.record)

    def ask(question: str, kind: str, entry_id: str | None = None) -> None:
        reply = service.ask(question, platform="slack", member="U1", limited=False).reply
        assert reply is not None
        assert (reply.kind.value, reply.entry_id) == (kind, entry_id), question

    def day(offset: int) -> None:
        if clock is not None:
            clock.now = NOW + dt.timedelta(days=offset)

    day(-40)
    ask("How was the study done?", "answer", "study-design")
    ask("what's the weather in paris", "fallback")
    day(-2)
    ask("how fast does ketamine work for ptsd", "answer", "ketamine-speed")
    ask("How fast does ketamine work for PTSD?", "answer", "ketamine-speed")
    ask("is ketamine therapy safe?", "answer", "ketamine-is-it-safe")
    day(-1)
    ask("how fast does ketamine work for ptsd", "answer", "ketamine-speed")
    ask("is ketamine legal in canada", "not_covered")
    ask("Is ketamine legal in Canada", "not_covered")
    ask("I want to end my life tonight", "crisis")
    day(0)
    ask("ketamine", "clarify")
    ask(SCRIPT, "fallback")  # cats: off-topic, no words shared with an entry
    ask("how much ketamine should I take for my flashbacks", "advice")
    for member, helpful in (("U1", True), ("U2", False), ("U3", True), ("U3", False)):
        store.vote(member=member, message_ref="C1/1.0", entry_id="ketamine-speed", helpful=helpful)
    store.vote(member="U1", message_ref="C1/2.0", entry_id="ketamine-is-it-safe", helpful=True)
    store.vote(member="U1", message_ref="C1/3.0", entry_id="retired-entry", helpful=True)


@pytest.fixture()
def seeded_store(tmp_path, seeded_knowledge) -> Store:
    clock = FakeClock(NOW)
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s", clock=clock)
    seed(store, seeded_knowledge, clock)
    clock.now = NOW
    yield store
    store.close()


def test_the_html_page_shows_entries_votes_stale_entries_queue_and_chart(
    seeded_store, seeded_knowledge
):
    page = render_html(build_report(seeded_store, seeded_knowledge, days=7, stale_days=180))
    speed = seeded_knowledge.entries["ketamine-speed"]
    section = seeded_knowledge.section_of("ketamine-speed")

    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert "<h1>Knowledge report</h1>" in page
    assert "records are kept 90 days." in page
    # entries: answers over everything kept, votes after the change of vote
    assert (
        f"<tr><td><code>ketamine-speed</code></td><td>{speed.question}<br>"
        f'<span class="section">{section}</span></td><td class="n">3</td>'
        f'<td class="n">1</td><td class="n">2</td><td>{REVIEWED}</td></tr>'
    ) in page
    assert "<td><code>study-design</code></td><td>How was the study done?<br>" in page
    assert (
        "<tr><td><code>retired-entry</code></td><td>(no longer in the knowledge base)</td>"
        '<td class="n">0</td><td class="n">1</td><td class="n">0</td><td>–</td></tr>'
    ) in page
    # entries to review: the oldest first, with their age in days
    assert "<h2>Entries to review (reviewed more than 180 days ago)</h2>" in page
    stale = page.split("<h2>Entries to review")[1].split("<h2>Entries</h2>")[0]
    assert re.findall(
        r"<code>([a-z-]+)</code>.*?<td>(\S+)</td><td class=\"n\">(\d+)</td>", stale
    ) == [
        ("ptsd-what-is-it", "2025-01-15", "411"),
        ("study-design", "2025-08-01", "213"),
    ]
    # the unanswered queue of the last 7 days: grouped, escaped, no crisis or advice text
    assert (
        '<tr><td class="n">2</td><td class="n">1</td><td>Is ketamine legal in Canada</td></tr>'
        in page
    )
    assert (
        '<tr><td class="n">1</td><td class="n">1</td>'
        "<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; does it help cats?</td></tr>"
    ) in page
    assert "weather in paris" not in page  # 40 days ago: outside the period
    assert "end my life" not in page and "should I take" not in page
    # the chart: one stacked bar per day, 4 questions at the top of the scale
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="220" viewBox="0 0 640 220" '
        'role="img" aria-label="Questions per day by reply kind, 2026-02-24 to 2026-03-02">'
    ) in page
    assert page.count("<rect ") == 7
    for fragment in (
        '<rect x="385.1" y="57.0" width="68.1" height="135.0" fill="#009E73">'
        "<title>2026-02-28 · answer: 3</title></rect>",
        '<rect x="470.2" y="147.0" width="68.1" height="45.0" fill="#009E73">'
        "<title>2026-03-01 · answer: 1</title></rect>",
        '<rect x="470.2" y="102.0" width="68.1" height="45.0" fill="#D55E00">'
        "<title>2026-03-01 · crisis: 1</title></rect>",
        '<rect x="470.2" y="12.0" width="68.1" height="90.0" fill="#F0E442">'
        "<title>2026-03-01 · not_covered: 2</title></rect>",
        '<rect x="555.4" y="147.0" width="68.1" height="45.0" fill="#56B4E9">'
        "<title>2026-03-02 · clarify: 1</title></rect>",
        '<rect x="555.4" y="102.0" width="68.1" height="45.0" fill="#E69F00">'
        "<title>2026-03-02 · fallback: 1</title></rect>",
        '<rect x="555.4" y="57.0" width="68.1" height="45.0" fill="#CC79A7">'
        "<title>2026-03-02 · advice: 1</title></rect>",
        '<text x="32" y="16" text-anchor="end">4</text>',
        '<text x="32" y="196" text-anchor="end">0</text>',
        '<text x="36" y="212">2026-02-24</text>',
        '<text x="632" y="212" text-anchor="end">2026-03-02</text>',
        '<li><span class="swatch" style="background:#D55E00"></span>crisis</li>',
        "<p>10 questions.</p>",
    ):
        assert fragment in page, fragment


def test_the_page_is_self_contained(seeded_store, seeded_knowledge):
    page = render_html(build_report(seeded_store, seeded_knowledge, days=7))

    for outside in ("<script", "src=", "<link", "url(", "@import", "https://"):
        assert outside not in page, outside
    assert re.findall(r"http://\S+", page) == ['http://www.w3.org/2000/svg"']  # a namespace only


def test_the_markdown_report_has_the_same_figures(seeded_store, seeded_knowledge):
    text = render_markdown(build_report(seeded_store, seeded_knowledge, days=7, stale_days=180))
    speed = seeded_knowledge.entries["ketamine-speed"].question

    for fragment in (
        "# Knowledge report\n",
        "## Questions per day (last 7 days)\n\n| Day | answer | clarify | fallback | crisis | "
        "advice | not_covered | Total |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
        "| 2026-02-28 | 3 | 0 | 0 | 0 | 0 | 0 | 3 |\n"
        "| 2026-03-01 | 1 | 0 | 0 | 1 | 0 | 2 | 4 |\n"
        "| 2026-03-02 | 0 | 1 | 1 | 0 | 1 | 0 | 3 |\n\n"
        "10 questions; days without questions are left out.",
        "| 2 | 1 | Is ketamine legal in Canada |",
        "| 1 | 1 | &lt;script&gt;alert(1)&lt;/script&gt; &amp; does it help cats? |",
        "| `ptsd-what-is-it` | What is PTSD? | 2025-01-15 | 411 |\n"
        "| `study-design` | How was the study done? | 2025-08-01 | 213 |",
        f"| `ketamine-speed` | {speed} | 3 | 1 | 2 | {REVIEWED} |",
        "| `retired-entry` | (no longer in the knowledge base) | 0 | 1 | 0 | – |",
    ):
        assert fragment in text, fragment


def test_an_empty_database_says_so_instead_of_drawing_an_empty_chart(tmp_path, seeded_knowledge):
    with Store.open(f"sqlite:///{tmp_path / 'empty.sqlite3'}", secret=b"s") as store:
        report = build_report(store, seeded_knowledge, stale_days=10_000)
    page, text = render_html(report), render_markdown(report)

    assert "<svg" not in page
    assert "<p>No questions in this period.</p>" in page
    assert "<p>None: the bot answered everything it was asked.</p>" in page
    assert "<p>None: every entry was reviewed in the last 10000 days.</p>" in page
    assert "No questions in this period." in text


def test_every_reply_kind_has_a_colour_of_its_own_in_the_chart(tmp_path, seeded_knowledge):
    """A day with one question of every kind: each bar segment and legend swatch differs."""
    with Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s") as store:
        now = store.now()
        store.insert_questions(
            [
                {"asked_at": now, "day": now.date(), "platform": "slack", "kind": kind.value}
                for kind in ReplyKind
            ]
        )
        page = render_html(build_report(store, seeded_knowledge, days=1))

    # colour -> kind: two kinds drawn in one colour would leave one of them out
    fills = dict(re.findall(r'fill="(#[0-9A-F]{6})"><title>\S+ · (\w+): 1</title>', page))
    swatches = re.findall(r'background:(#[0-9A-F]{6})"></span>(\w+)</li>', page)
    assert sorted(fills.values()) == sorted(kind.value for kind in ReplyKind)
    assert dict(swatches) == fills


def test_a_member_cannot_inject_markdown_into_the_report(tmp_path, seeded_knowledge):
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"s")
    service = BotService(seeded_knowledge)
    service.listeners.append(store.record)
    service.ask(
        "is ketamine | legal [here](javascript:x) **now**",
        platform="slack",
        member="U1",
        limited=False,
    )
    text = render_markdown(build_report(store, seeded_knowledge))
    store.close()

    assert r"| 1 | 1 | is ketamine \| legal \[here\](javascript:x) \*\*now\*\* |" in text


# --- the command line ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_env_file_of_ours(tmp_path, monkeypatch):
    """`report` reads `.env` in the working folder, as `run` does: run it in an empty one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENV_FILE", raising=False)


@pytest.fixture()
def cli_database(tmp_path, knowledge_today, monkeypatch) -> Path:
    """A database seeded today (the command uses the real clock), selected by DATABASE_URL."""
    path = tmp_path / "bot.sqlite3"
    with Store.open(f"sqlite:///{path}", secret=b"s") as store:
        seed(store, knowledge_today)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def test_report_writes_the_html_page_to_a_file(cli_database, knowledge_today, tmp_path, capsys):
    output = tmp_path / "report.html"
    code = main(["report", "--output", str(output), "--knowledge", str(knowledge_today.directory)])

    assert code == 0
    page = output.read_text(encoding="utf-8")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert page.startswith("<!DOCTYPE html>")
    assert f"<title>{today} · answer: 5</title></rect>" in page
    assert "<h2>Questions per day (last 30 days)</h2>" in page
    assert "<h2>Entries to review (reviewed more than 180 days ago)</h2>" in page
    assert capsys.readouterr().err == (
        f"Wrote {output}: {len(knowledge_today.entries) + 1} entries, 2 to review, "
        "4 unanswered questions, 12 questions in the last 30 days.\n"
    )


def test_report_prints_markdown_with_the_chosen_periods(cli_database, knowledge_today, capsys):
    code = main(
        [
            "report",
            "--format",
            "markdown",
            "--days",
            "3",
            "--stale-days",
            "250",
            "--knowledge",
            str(knowledge_today.directory),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "records are kept 90 days." in out
    assert "## Questions per day (last 3 days)" in out
    assert "## Entries to review (reviewed more than 250 days ago)" in out
    today = dt.datetime.now(dt.timezone.utc).date()
    oldest = (today - dt.timedelta(days=411)).isoformat()
    assert f"| `ptsd-what-is-it` | What is PTSD? | {oldest} | 411 |" in out
    assert "| `study-design` | How was the study done? |" not in out.split("## Entries\n")[0]


@pytest.mark.parametrize("option", ["--days", "--stale-days"])
def test_report_refuses_a_period_under_one_day(option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", option, "0"])

    assert exit_.value.code == 2
    assert f"argument {option}: must be 1 or more, not 0" in capsys.readouterr().err


def test_report_with_an_unreachable_database_exits_2_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@127.0.0.1:1/bot")
    assert main(["report"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("ketamine-bot report: cannot open the database ")
    assert err.count("\n") == 1 and "hunter2" not in err


def test_report_with_an_unwritable_output_exits_2(cli_database, tmp_path, capsys):
    assert main(["report", "--output", str(tmp_path / "missing" / "report.html")]) == 2
    assert capsys.readouterr().err == (
        f"ketamine-bot report: cannot write {tmp_path / 'missing' / 'report.html'}: "
        "No such file or directory\n"
    )


def test_report_with_a_broken_knowledge_base_exits_1(cli_database, tmp_path, capsys):
    broken = knowledge_copy(tmp_path / "broken")
    (broken / "sources.yaml").write_text("sources: [\n")

    assert main(["report", "--knowledge", str(broken)]) == 1
    assert "sources.yaml:" in capsys.readouterr().err


def test_the_installed_command_runs_the_report(tmp_path):
    """Once end to end through the real entry point, as a moderator runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--format", "markdown"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "STORAGE_PATH": "new/bot.sqlite3", "PYTHONPATH": str(ROOT)},
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Knowledge report\n")
    assert "No questions in this period." in result.stdout
    assert (tmp_path / "new" / "bot.sqlite3").exists()  # created on first run
    assert not (tmp_path / "new" / "bot.secret").exists()  # a read-only report needs no secret


def test_report_reads_the_database_url_from_the_env_file_as_run_does(
    tmp_path, knowledge_today, monkeypatch, capsys
):
    path = tmp_path / "from-env-file.sqlite3"
    with Store.open(f"sqlite:///{path}", secret=b"s") as store:
        seed(store, knowledge_today)
    monkeypatch.setenv("DATABASE_URL", "set-so-that-the-test-restores-it")
    monkeypatch.delenv("DATABASE_URL")
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{path}\n")

    code = main(["report", "--format", "markdown", "--knowledge", str(knowledge_today.directory)])

    assert code == 0
    assert f"data: `sqlite:///{path}`" in capsys.readouterr().out


def test_report_states_the_retention_the_bot_runs_with(cli_database, monkeypatch, capsys):
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert main(["report", "--format", "markdown"]) == 0
    assert "records are kept 30 days." in capsys.readouterr().out

    monkeypatch.setenv("RETENTION_DAYS", "a month")
    assert main(["report"]) == 2
    assert capsys.readouterr().err == (
        "ketamine-bot report: RETENTION_DAYS is malformed: input should be a valid integer, "
        "unable to parse string as an integer\n"
    )
