"""The bot's one storage interface: questions, votes and counters, on any SQL database.

SQLAlchemy Core with portable SQL only, so SQLite (the zero-setup default) and PostgreSQL
(shared by replicas) run the same statements: one code path, tested on both. Calls are
synchronous; the running bot writes through ``bot.storage.writer.StoreWriter`` (a thread of
its own), and reads in ``asyncio.to_thread``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.event import listen
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bot.core.service import Asked
from bot.moderation.grouping import UnansweredGroup, group_wordings
from bot.storage.config import (
    DEFAULT_RETENTION_DAYS,
    StorageError,
    database_url,
    keyed_hash,
    redact,
    resolve_secret,
    shown_url,
    sqlite_file,
    storage_url,
)

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

# The two tables are the whole privacy story (README "What is stored"): a question row has no
# member at all, and its text only when the bot could not answer; a vote row has keyed
# hashes, never a raw member id or message reference.
metadata = MetaData()

UNANSWERED_KINDS = frozenset({"fallback", "clarify", "not_covered"})
"""Reply kinds whose question text is kept (redacted), for the moderators' queue."""

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_at", DateTime, nullable=False, comment="UTC, to the second"),
    Column("day", Date, nullable=False, comment="UTC day, for per-day counts on any database"),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("entry_id", String(100), nullable=True, comment="only for answers"),
    Column("text", Text, nullable=True, comment="fallback, clarify and not_covered only, redacted"),
    Index("ix_questions_asked_at", "asked_at"),
    Index("ix_questions_day_kind", "day", "kind"),
)

votes = Table(
    "votes",
    metadata,
    Column("member_hash", String(64), primary_key=True),
    Column("message_hash", String(64), primary_key=True),
    Column("entry_id", String(100), nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("voted_at", DateTime, nullable=False, comment="UTC; a changed vote moves it"),
    Index("ix_votes_voted_at", "voted_at"),
    Index("ix_votes_entry_id", "entry_id"),
)


@dataclass(frozen=True)
class VoteCount:
    """Helpful and not-helpful votes for one entry."""

    helpful: int = 0
    not_helpful: int = 0

    @property
    def total(self) -> int:
        """Every vote cast on the entry."""
        return self.helpful + self.not_helpful


Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _as_stored(moment: dt.datetime) -> dt.datetime:
    """Naive UTC to the second: how every timestamp is kept, the same on every database."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _check_retention(days: int) -> None:
    if days < 1:
        raise StorageError("the retention period must be at least 1 day")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Tune each SQLite connection for a bot that writes a row per question.

    WAL lets the report read while the bot writes; synchronous=NORMAL skips an fsync per
    question and is still crash-safe; secure_delete zeroes purged rows in the file.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Store:
    """Questions asked, votes cast, and the counts moderators read back.

    Privacy by construction: ``record`` keeps no member at all and question text only for
    replies that did not answer (never crisis or advice); ``vote`` keeps keyed hashes of the
    member and the message; ``purge`` deletes whatever is older than the retention period.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        secret: bytes | str | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Clock = _utc_now,
    ) -> None:
        _check_retention(retention_days)
        self.engine = engine
        self.retention = dt.timedelta(days=retention_days)
        self._given_secret = secret
        self._secret: bytes | None = None
        self._secret_lock = threading.Lock()
        self._secret_file: Path | None = None
        self._clock = clock

    @classmethod
    def open(
        cls,
        url: str | URL | None = None,
        secret: bytes | str | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        *,
        secret_file: Path | None = None,
        clock: Clock = _utc_now,
    ) -> Store:
        """Connect, creating the SQLite file and the tables on first run.

        ``url`` defaults to a SQLite file at ``data/ketamine-bot.sqlite3``; the running bot
        passes its settings through ``from_settings``. Raises ``StorageError`` with a
        one-line reason (never the password) when the database cannot be used.
        """
        _check_retention(retention_days)
        resolved = database_url(url)
        path = sqlite_file(resolved)
        options: dict[str, Any] = {"pool_pre_ping": True}
        if resolved.get_backend_name() == "sqlite" and path is None:  # one shared in-memory DB
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        try:
            if path is not None:  # created private: it holds what members could not get answered
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            engine = create_engine(resolved, **options)
            if engine.dialect.name == "sqlite":
                listen(engine, "connect", _sqlite_pragmas)
            metadata.create_all(engine)
        except (SQLAlchemyError, OSError, ImportError) as error:  # ImportError: no such driver
            reason = getattr(error, "orig", None) or error
            first_line = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
            raise StorageError(
                f"cannot open the database {shown_url(resolved)}: {first_line}"
            ) from None
        store = cls(engine, secret=secret, retention_days=retention_days, clock=clock)
        store._secret_file = secret_file
        return store

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """Open the store the settings name (``DATABASE_URL``, else ``STORAGE_PATH``)."""
        secret = settings.storage_secret
        return cls.open(
            storage_url(settings),
            secret.get_secret_value() if secret is not None else None,
            settings.retention_days,
            secret_file=settings.storage_secret_file,
        )

    @property
    def location(self) -> str:
        """Where the data lives, safe to show (no password)."""
        return shown_url(self.engine.url)

    def now(self) -> dt.datetime:
        """The store's clock, as it stamps rows (naive UTC)."""
        return _as_stored(self._clock())

    def _member_key(self) -> bytes:
        """The hashing secret, read on first use so that a read-only report needs none."""
        with self._secret_lock:
            if self._secret is None:
                self._secret = resolve_secret(
                    self._given_secret, self.engine.url, self._secret_file
                )
            return self._secret

    def question_row(self, event: Asked) -> dict[str, Any]:
        """The row kept for one reply: no member; text only of unanswered ones, redacted."""
        kind = event.reply.kind.value
        text = None
        if kind in UNANSWERED_KINDS and event.message:
            text = redact(event.message)
        entry_id = event.reply.entry_id if kind == "answer" else None
        now = self.now()
        return {
            "asked_at": now,
            "day": now.date(),
            "platform": event.platform[:16],
            "kind": kind,
            "entry_id": entry_id[:100] if entry_id else None,
            "text": text,
        }

    def record(self, event: Asked) -> None:
        """Count one reply now (blocking; the running bot queues through ``StoreWriter``)."""
        self.insert_questions([self.question_row(event)])

    def insert_questions(self, rows: list[dict[str, Any]]) -> None:
        """Insert question rows in one transaction: all of them or none."""
        if rows:
            with self.engine.begin() as connection:
                connection.execute(insert(questions), rows)

    def vote(self, *, member: str, message_ref: str, entry_id: str, helpful: bool) -> None:
        """Keep one vote per member per answer message; a second click replaces the first."""
        key = self._member_key()
        member_hash = keyed_hash(key, member)
        message_hash = keyed_hash(key, message_ref)
        values = {"entry_id": entry_id[:100], "helpful": helpful, "voted_at": self.now()}
        same_vote = (votes.c.member_hash == member_hash) & (votes.c.message_hash == message_hash)
        for _attempt in range(2):
            try:
                with self.engine.begin() as connection:
                    changed = connection.execute(update(votes).where(same_vote).values(values))
                    if changed.rowcount == 0:
                        connection.execute(
                            insert(votes).values(
                                member_hash=member_hash, message_hash=message_hash, **values
                            )
                        )
                return
            except IntegrityError:  # the same member's other click won the race: update it
                continue
        raise StorageError("could not record the vote")

    def votes(self) -> dict[str, VoteCount]:
        """Helpful and not-helpful votes per entry id (votes within the retention period)."""
        statement = select(
            votes.c.entry_id,
            func.sum(case((votes.c.helpful, 1), else_=0)),
            func.sum(case((votes.c.helpful, 0), else_=1)),
        ).group_by(votes.c.entry_id)
        with self.engine.connect() as connection:
            return {
                entry_id: VoteCount(helpful=int(helpful), not_helpful=int(not_helpful))
                for entry_id, helpful, not_helpful in connection.execute(statement)
            }

    def answer_counts(self) -> dict[str, int]:
        """Times each entry was given as an answer (within the retention period)."""
        statement = (
            select(questions.c.entry_id, func.count())
            .where(questions.c.kind == "answer", questions.c.entry_id.is_not(None))
            .group_by(questions.c.entry_id)
        )
        with self.engine.connect() as connection:
            return {entry_id: int(count) for entry_id, count in connection.execute(statement)}

    def unanswered(self, *, days: int = 30, limit: int = 10) -> list[UnansweredGroup]:
        """The most asked questions the bot could not answer in the last ``days`` days.

        Exact repeats are counted by the database; near-identical wordings are then
        grouped by ``bot.moderation.grouping``.
        """
        since = self.now() - dt.timedelta(days=days)
        statement = (
            select(questions.c.text, func.count())
            .where(
                questions.c.kind.in_(sorted(UNANSWERED_KINDS)),
                questions.c.text.is_not(None),
                questions.c.asked_at >= since,
            )
            .group_by(questions.c.text)
        )
        with self.engine.connect() as connection:
            asked = [(text, int(count)) for text, count in connection.execute(statement)]
        return group_wordings(asked, limit=limit)

    def daily_counts(self, *, days: int = 30) -> list[tuple[dt.date, str, int]]:
        """``(day, reply kind, count)`` for the last ``days`` UTC days, today included."""
        first_day = self.now().date() - dt.timedelta(days=max(days, 1) - 1)
        statement = (
            select(questions.c.day, questions.c.kind, func.count())
            .where(questions.c.day >= first_day)
            .group_by(questions.c.day, questions.c.kind)
            .order_by(questions.c.day, questions.c.kind)
        )
        with self.engine.connect() as connection:
            return [(day, kind, int(count)) for day, kind, count in connection.execute(statement)]

    def purge(self, *, now: dt.datetime | None = None) -> int:
        """Delete every question and vote older than the retention period; return how many."""
        cutoff = _as_stored(now or self._clock()) - self.retention
        with self.engine.begin() as connection:
            removed = connection.execute(delete(questions).where(questions.c.asked_at < cutoff))
            removed_votes = connection.execute(delete(votes).where(votes.c.voted_at < cutoff))
        total = removed.rowcount + removed_votes.rowcount
        if total:
            log.info("purged %d records older than %s", total, cutoff.date())
        return total

    def close(self) -> None:
        """Close every connection (SQLite then folds its write-ahead log into the file)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
