"""Privacy by design, checked where it matters: in the bytes the database keeps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from bot.core.service import BotService
from bot.storage import Store
from bot.storage.store import questions, votes
from tests.storage.conftest import SECRET, START, FakeClock

CRISIS = "I want to end my life tonight, nobody at home knows"
ADVICE = "how much ketamine should I take for my flashbacks"
# An adjacent topic the article does not cover: the bot keeps its text for the moderators.
UNANSWERED = "is ketamine legal in canada"
SLACK_MEMBER = "U0PRIVATE42"
DISCORD_MEMBER = "802934578120347659"


def database_bytes(path: Path) -> bytes:
    """The database file and any journal beside it: everything SQLite wrote to disk."""
    files = [path, *path.parent.glob(path.name + "-*")]
    return b"".join(file.read_bytes() for file in files if file.exists())


def ask_everything(service: BotService, store: Store) -> None:
    service.listeners.append(store.record)
    for platform, member in (("slack", SLACK_MEMBER), ("discord", DISCORD_MEMBER)):
        for message, kind in ((CRISIS, "crisis"), (ADVICE, "advice")):
            reply = service.ask(message, platform=platform, member=member, limited=False).reply
            assert reply is not None and reply.kind.value == kind, message
    reply = service.ask(UNANSWERED, platform="slack", member=SLACK_MEMBER, limited=False).reply
    assert reply is not None and reply.kind.value == "not_covered"
    store.vote(
        member=SLACK_MEMBER, message_ref="C0SHARED/1712345678.000100", entry_id="x", helpful=True
    )
    store.vote(
        member=DISCORD_MEMBER, message_ref="1229876543210987654", entry_id="x", helpful=False
    )


def test_no_crisis_or_advice_text_and_no_raw_member_id_in_the_database_file(tmp_path, service):
    path = tmp_path / "bot.sqlite3"
    store = Store.open(f"sqlite:///{path}", secret=SECRET)
    ask_everything(service, store)
    store.close()

    kept = database_bytes(path)
    assert UNANSWERED.encode() in kept  # the file is readable: the test would see a leak
    for private in (CRISIS, ADVICE, "end my life", "should I take", "flashbacks"):
        assert private.encode() not in kept, private
    for identifier in (SLACK_MEMBER, DISCORD_MEMBER, "C0SHARED", "1229876543210987654"):
        assert identifier.encode() not in kept, identifier


def test_every_stored_row_is_free_of_private_text_on_any_database(store, service):
    """The same promise on PostgreSQL, where there is no file to read: read every row."""
    ask_everything(service, store)

    with store.engine.connect() as connection:
        rows = [
            *connection.execute(select(questions)).mappings(),
            *connection.execute(select(votes)).mappings(),
        ]
    everything = repr(rows)
    assert UNANSWERED in everything
    for private in (
        CRISIS,
        ADVICE,
        SLACK_MEMBER,
        DISCORD_MEMBER,
        "C0SHARED",
        "1229876543210987654",
    ):
        assert private not in everything, private
    kinds = [row["kind"] for row in rows if "kind" in row]
    assert sorted(kinds) == ["advice", "advice", "crisis", "crisis", "not_covered"]
    assert [row["text"] for row in rows if "kind" in row and row["text"]] == [UNANSWERED]


def test_purged_text_is_overwritten_in_the_file_not_just_unlinked(tmp_path, service):
    """SQLite leaves deleted rows in free pages unless told otherwise; ours zeroes them."""
    path = tmp_path / "bot.sqlite3"
    clock = FakeClock(START)
    store = Store.open(f"sqlite:///{path}", secret=SECRET, clock=clock)
    service.listeners.append(store.record)
    service.ask(UNANSWERED, platform="slack", member=SLACK_MEMBER, limited=False)
    store.close()
    assert UNANSWERED.encode() in database_bytes(path)

    store = Store.open(f"sqlite:///{path}", secret=SECRET, clock=clock)
    assert store.purge(now=START + dt.timedelta(days=91)) == 1
    store.close()

    assert UNANSWERED.encode() not in database_bytes(path)
