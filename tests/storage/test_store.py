"""Store: votes, counts, restarts and per-day figures, on SQLite (and PostgreSQL when set)."""

from __future__ import annotations

import datetime as dt
import stat

import pytest

from bot.core.service import Asked, BotService
from bot.settings import Settings
from bot.storage import StorageError, Store, VoteCount
from bot.storage.config import database_url as resolve_url
from bot.storage.config import redact
from tests.storage.conftest import START


def ask(service: BotService, question: str, kind: str, member: str = "U1") -> None:
    reply = service.ask(question, platform="slack", member=member, limited=False).reply
    assert reply is not None
    assert reply.kind.value == kind, f"{question!r} now gives {reply.kind.value}"


def test_votes_are_counted_per_entry(store):
    store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    store.vote(member="U2", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    store.vote(member="U3", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=False)
    store.vote(member="U1", message_ref="C1/2.000", entry_id="study-design", helpful=False)

    assert store.votes() == {
        "ketamine-speed": VoteCount(helpful=2, not_helpful=1),
        "study-design": VoteCount(helpful=0, not_helpful=1),
    }


def test_a_second_click_changes_the_vote_instead_of_adding_one(store):
    store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    assert store.votes() == {"ketamine-speed": VoteCount(helpful=1, not_helpful=0)}

    store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=False)
    assert store.votes() == {"ketamine-speed": VoteCount(helpful=0, not_helpful=1)}

    store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=False)
    assert store.votes() == {"ketamine-speed": VoteCount(helpful=0, not_helpful=1)}


def test_the_same_member_votes_once_per_answer_message(store):
    """Two answers of the same entry are two messages: one vote on each."""
    store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    store.vote(member="U1", message_ref="C2/7.000", entry_id="ketamine-speed", helpful=True)

    assert store.votes() == {"ketamine-speed": VoteCount(helpful=2, not_helpful=0)}


def test_answers_are_counted_per_entry(recording_service, store):
    ask(recording_service, "how fast does ketamine work for ptsd", "answer")
    ask(recording_service, "How fast does ketamine work for PTSD?", "answer", member="U2")
    ask(recording_service, "is ketamine therapy safe?", "answer")
    ask(recording_service, "what's the weather in paris", "fallback")
    ask(recording_service, "sources", "sources")

    assert store.answer_counts() == {"ketamine-speed": 2, "ketamine-is-it-safe": 1}


def test_everything_survives_a_restart(open_store, recording_service):
    first = open_store()
    recording_service.listeners[:] = [first.record]
    ask(recording_service, "how fast does ketamine work for ptsd", "answer")
    ask(recording_service, "is ketamine legal in canada", "not_covered")
    first.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    first.close()

    second = open_store()
    assert second.answer_counts() == {"ketamine-speed": 1}
    assert second.votes() == {"ketamine-speed": VoteCount(helpful=1, not_helpful=0)}
    assert [group.example for group in second.unanswered()] == ["is ketamine legal in canada"]
    second.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=False)
    assert second.votes() == {"ketamine-speed": VoteCount(helpful=0, not_helpful=1)}


def test_the_generated_secret_is_kept_so_votes_still_match_after_a_restart(open_store, tmp_path):
    secret_file = tmp_path / "keys" / "bot.secret"  # STORAGE_SECRET_FILE
    first = open_store(secret=None, secret_file=secret_file)
    first.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    first.close()

    second = open_store(secret=None, secret_file=secret_file)
    second.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=False)

    assert second.votes() == {"ketamine-speed": VoteCount(helpful=0, not_helpful=1)}
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) == 64


def test_two_bot_processes_sharing_a_database_see_each_others_votes(open_store):
    """Two Store objects on one database: what two replicas behind a load balancer do."""
    first, second = open_store(), open_store()
    first.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    second.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=False)
    second.vote(member="U2", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)

    assert first.votes() == second.votes() == {"ketamine-speed": VoteCount(1, 1)}


def test_daily_counts_are_per_utc_day_and_reply_kind(recording_service, store, clock):
    ask(recording_service, "how fast does ketamine work for ptsd", "answer")
    ask(recording_service, "is ketamine legal in canada", "not_covered")
    clock.advance(days=1)
    ask(recording_service, "how fast does ketamine work for ptsd", "answer")
    ask(recording_service, "is ketamine therapy safe?", "answer")
    ask(recording_service, "I want to end my life tonight", "crisis")
    clock.advance(days=40)
    ask(recording_service, "how much ketamine should I take for my flashbacks", "advice")

    assert store.daily_counts(days=60) == [
        (dt.date(2026, 3, 2), "answer", 1),
        (dt.date(2026, 3, 2), "not_covered", 1),
        (dt.date(2026, 3, 3), "answer", 2),
        (dt.date(2026, 3, 3), "crisis", 1),
        (dt.date(2026, 4, 12), "advice", 1),
    ]
    assert store.daily_counts(days=1) == [(dt.date(2026, 4, 12), "advice", 1)]


def test_records_older_than_the_retention_period_are_purged(open_store, recording_service, clock):
    store = open_store(retention_days=90)
    recording_service.listeners[:] = [store.record]
    ask(recording_service, "how fast does ketamine work for ptsd", "answer")
    ask(recording_service, "is ketamine legal in canada", "not_covered")
    store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
    clock.advance(days=60)
    ask(recording_service, "is ketamine therapy safe?", "answer")
    store.vote(member="U2", message_ref="C1/2.000", entry_id="ketamine-is-it-safe", helpful=False)

    assert store.purge(now=START + dt.timedelta(days=90)) == 0  # exactly 90 days: still kept
    assert store.purge(now=START + dt.timedelta(days=90, seconds=1)) == 3

    assert store.answer_counts() == {"ketamine-is-it-safe": 1}
    assert store.votes() == {"ketamine-is-it-safe": VoteCount(helpful=0, not_helpful=1)}
    assert store.unanswered(days=365) == []
    clock.advance(days=31)  # the store's own clock: 91 days after the first question
    assert store.purge() == 0
    clock.advance(days=60)  # 91 days after the second question and vote
    assert store.purge() == 2
    assert store.answer_counts() == {} and store.votes() == {}


def test_a_retention_period_under_a_day_is_refused(database_url):
    with pytest.raises(StorageError, match="at least 1 day"):
        Store.open(database_url, secret=b"x", retention_days=0)


def test_the_default_is_a_private_sqlite_file_created_on_first_run(tmp_path):
    settings = Settings(_env_file=None, STORAGE_PATH=tmp_path / "state" / "bot.sqlite3")
    with Store.from_settings(settings) as store:
        store.vote(member="U1", message_ref="C1/1.000", entry_id="ketamine-speed", helpful=True)
        assert store.location == f"sqlite:///{tmp_path / 'state' / 'bot.sqlite3'}"

    assert stat.S_IMODE((tmp_path / "state" / "bot.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state" / "bot.secret").stat().st_mode) == 0o600


def test_an_in_memory_database_is_one_database_for_every_thread():
    """`sqlite://` is handy in tests; the adapters call the store from worker threads."""
    import threading

    with Store.open("sqlite://", secret=b"x") as store:
        voter = threading.Thread(
            target=store.vote,
            kwargs={
                "member": "U1",
                "message_ref": "m",
                "entry_id": "ketamine-speed",
                "helpful": True,
            },
        )
        voter.start()
        voter.join()
        assert store.votes() == {"ketamine-speed": VoteCount(helpful=1, not_helpful=0)}


def test_database_url_wins_over_storage_path(tmp_path):
    settings = Settings(
        _env_file=None,
        STORAGE_PATH=tmp_path / "unused.sqlite3",
        DATABASE_URL=f"sqlite:///{tmp_path / 'chosen.sqlite3'}",
        STORAGE_SECRET="x",
    )
    Store.from_settings(settings).close()

    assert (tmp_path / "chosen.sqlite3").exists()
    assert not (tmp_path / "unused.sqlite3").exists()


@pytest.mark.parametrize(
    ("given", "opened"),
    [
        (
            "postgres://bot:pw@db.internal:5432/bot",
            "postgresql+psycopg://bot:***@db.internal:5432/bot",
        ),
        ("postgresql://bot@db/bot", "postgresql+psycopg://bot@db/bot"),
        ("postgresql+psycopg://bot@db/bot", "postgresql+psycopg://bot@db/bot"),
        ("sqlite:////srv/bot.sqlite3", "sqlite:////srv/bot.sqlite3"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given, opened):
    assert resolve_url(given).render_as_string(hide_password=True) == opened


def test_an_unreachable_server_is_one_line_without_the_password():
    with pytest.raises(StorageError) as caught:
        Store.open("postgresql://bot:hunter2@127.0.0.1:1/bot", secret=b"x")

    message = str(caught.value)
    assert message.startswith(
        "cannot open the database postgresql+psycopg://bot:***@127.0.0.1:1/bot: "
    )
    assert "hunter2" not in message and "\n" not in message


def test_a_driver_that_is_not_installed_is_one_line():
    with pytest.raises(
        StorageError, match=r"^cannot open the database mysql://bot:\*\*\*@db/bot: "
    ):
        Store.open("mysql://bot:pw@db/bot", secret=b"x")


NOT_A_URL = "DATABASE_URL is not a database URL"
MALFORMED = "DATABASE_URL is malformed"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", f"{NOT_A_URL} (expected e.g. postgresql://user@host/db)"),
        ("postgresql://u:pw@host:notaport/db", f"{MALFORMED}: the port is not a number"),
        ("postgresql://u:pw@[::1/db", f"{MALFORMED}: the port is not a number"),
        (
            "postgresql://u:pw@host:99999/db",
            f"{MALFORMED}: the port is out of range (1 to 65535)",
        ),
    ],
)
def test_a_malformed_url_is_refused_in_one_line_without_the_password(url, message):
    with pytest.raises(StorageError) as caught:
        Store.open(url, secret=b"x")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("is ketamine legal in canada", "is ketamine legal in canada"),
        ("ask <@U024BE7LH> or <@!80351110224678912> about it", "ask @someone or @someone about it"),
        ("see https://example.org/my-story?id=7 please", "see [link] please"),
        ("mail me at sam.r@example.org", "mail me at [e-mail]"),
        ("text me on +1 (555) 123-4567 ok", "text me on [number] ok"),
        ("was the 2024 study 12 weeks", "was the 2024 study 12 weeks"),
        ("   \n  ", None),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_kept_text_has_no_mentions_links_or_contact_details(text, kept):
    assert redact(text) == kept


def test_a_long_platform_name_does_not_break_the_write(store, service):
    """PostgreSQL checks column lengths; the store trims rather than lose the count."""
    reply = service.responder.respond("how fast does ketamine work for ptsd")
    store.record(Asked("a-very-long-platform-name", "U1", None, reply, 0.01, "v1"))

    assert store.answer_counts() == {"ketamine-speed": 1}
