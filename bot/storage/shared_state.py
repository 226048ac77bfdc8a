"""What replicas must agree on, kept in PostgreSQL: seen events, cooldowns, alert limits.

Two ``ketamine-bot run`` processes behind one address each see part of the traffic, and
Slack may redeliver an event to either. Each decision here is one short statement (or one
short transaction) on a unique key: ``INSERT ... ON CONFLICT``, so the first replica to
write wins and no lock is held while an answer is worked out or sent. Time is the
database's clock (``now()``), so replicas whose clocks drift still agree.

Members and channels are stored as keyed hashes (the storage secret, which replicas share),
never raw ids; event ids are Slack's own and say nothing about anyone. Rows are useful for
minutes at most, and ``expire`` deletes them once their window has passed.

Every call blocks: the adapters call them from worker threads. When the database fails,
each answers as one process would on its own (an in-memory fallback) and logs it: a lost
database may cost a duplicate answer, never a member's answer or a moderator alert.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Double,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from bot.core.alerts import AlertLimiter
from bot.core.cooldown import Cooldown, Verdict
from bot.settings import SEEN_EVENT_SECONDS
from bot.storage.config import keyed_hash, resolve_secret, storage_url

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

COMPLAINT_INTERVAL_SECONDS = 60.0  # a failing database is logged at most once a minute per use
TABLE_ATTEMPTS = 3  # replicas starting together may race to create the tables

shared_metadata = MetaData()
"""Kept apart from the store's tables: these exist only on PostgreSQL."""


def _expiring_table(
    name: str, *columns: Column[Any] | PrimaryKeyConstraint, stamp: str, comment: str
) -> Table:
    """A shared table whose rows ``expire`` deletes by ``stamp`` (indexed for that delete).

    ``stamp`` holds seconds since the epoch on the database clock, so replicas agree on it.
    """
    return Table(
        name,
        shared_metadata,
        *columns,
        Column(stamp, Double, nullable=False, comment=comment),
        Index(f"ix_{name}_{stamp}", stamp),
    )


seen_events = _expiring_table(
    "seen_events",
    Column("event_id", String(100), primary_key=True),
    stamp="seen_at",
    comment="when the first delivery was claimed",
)

cooldowns = _expiring_table(
    "cooldowns",
    Column("member_hash", String(64), primary_key=True),
    Column("refused", Integer, nullable=False, comment="0, 1 (warned) or 2 (silent) since"),
    stamp="last_at",
    comment="the last request served",
)

alert_members = _expiring_table(
    "alert_members",
    Column("member_hash", String(64), primary_key=True),
    stamp="alerted_at",
    comment="the last alert about this member",
)

alert_slots = _expiring_table(
    "alert_slots",
    Column("channel_hash", String(64), nullable=False),
    Column("slot", Integer, nullable=False, comment="0 to alerts_per_channel - 1"),
    PrimaryKeyConstraint("channel_hash", "slot"),
    stamp="sent_at",
    comment="when the slot last carried an alert; 0: never used",
)


class SharedState:
    """The shared tables on one PostgreSQL engine, and the gates built on them."""

    def __init__(
        self, engine: Engine, secret: bytes, clock: Callable[[], float] | None = None
    ) -> None:
        self.engine = engine
        self._secret = secret
        self._clock = clock  # None: the database's clock (tests pass one to skip sleeping)

    @classmethod
    def for_engine(cls, engine: Engine, settings: Settings) -> SharedState | None:
        """The shared state on ``engine`` when it is PostgreSQL; ``None`` (in memory) otherwise.

        SQLite is one file on one machine: replicas cannot share it, so one process keeps
        its cooldowns and seen events in memory, as without a database.
        """
        if engine.dialect.name != "postgresql":
            return None
        secret = settings.storage_secret
        key = resolve_secret(
            secret.get_secret_value() if secret is not None else None,
            storage_url(settings),
            settings.storage_secret_file,
        )
        return cls(engine, key)

    def create_tables(self) -> None:
        """Create the shared tables if missing (a replica starting beside may race us)."""
        for attempt in range(1, TABLE_ATTEMPTS + 1):
            try:
                shared_metadata.create_all(self.engine)
                return
            except SQLAlchemyError:
                if attempt == TABLE_ATTEMPTS:
                    raise
                time.sleep(0.1 * attempt)  # the other replica's CREATE TABLE commits meanwhile

    def now(self) -> ColumnElement[float]:
        """The current moment in SQL: the transaction's start on the database clock."""
        if self._clock is not None:
            return literal(self._clock(), Double)
        return cast(func.extract("epoch", func.now()), Double)

    def hashed(self, value: str) -> str:
        """A member or channel as stored: a keyed hash."""
        return keyed_hash(self._secret, value)

    def events(self, keep_seconds: float = SEEN_EVENT_SECONDS) -> SharedEvents:
        """The seen-event record (Slack's retries and duplicate deliveries)."""
        return SharedEvents(self, keep_seconds)

    def cooldown(self, seconds: float) -> SharedCooldown:
        """A per-member cooldown with ``Cooldown``'s verdicts, shared by every replica."""
        return SharedCooldown(self, seconds)

    def alerts(self, window_seconds: float, per_channel: int) -> SharedAlerts:
        """Moderator alert limits with ``AlertLimiter``'s rules, shared by every replica."""
        return SharedAlerts(self, window_seconds, per_channel)

    def expire(
        self, *, events_seconds: float, cooldown_seconds: float, window_seconds: float
    ) -> int:
        """Delete rows whose window has passed; return how many."""
        now = self.now()
        windows = (
            (seen_events.c.seen_at, events_seconds),
            (cooldowns.c.last_at, cooldown_seconds),
            (alert_members.c.alerted_at, window_seconds),
            (alert_slots.c.sent_at, window_seconds),
        )
        with self.engine.begin() as connection:
            return sum(
                connection.execute(delete(stamp.table).where(stamp < now - seconds)).rowcount
                for stamp, seconds in windows
            )


class _Complaints:
    """Log a failing database once per interval, not once per member message."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._last = float("-inf")
        self._lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < COMPLAINT_INTERVAL_SECONDS:
                return
            self._last = now
        log.warning(
            "shared %s: the database failed (%s); this replica decides alone until it is back",
            self._what,
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
        )


class SharedEvents:
    """First writer wins: one row per event id, inserted only if it is not there yet."""

    def __init__(self, state: SharedState, keep_seconds: float) -> None:
        self.state = state
        self.keep_seconds = keep_seconds
        self._complaints = _Complaints("seen events")

    def claim(self, event_id: str) -> bool:
        """Record ``event_id``; ``True`` only for the one replica (and delivery) that did.

        Answering is at most once: a replica that claims an event and dies before
        answering leaves it unanswered. If the database fails, ``True`` (answer it).
        """
        statement = (
            insert(seen_events)
            .values(event_id=event_id[:100], seen_at=self.state.now())
            .on_conflict_do_nothing(index_elements=[seen_events.c.event_id])
            .returning(seen_events.c.event_id)  # a row back: this insert was the first
        )
        try:
            with self.state.engine.begin() as connection:
                return connection.execute(statement).first() is not None
        except SQLAlchemyError as error:
            self._complaints.failed(error)
            return True


class SharedCooldown:
    """``Cooldown`` across replicas: one upsert decides and records, atomically.

    The row keeps when the member was last served and how many requests were refused
    since (0, 1, or 2 for "more"). Inside the cooldown the upsert only counts the refusal
    (1: ``WARN``, 2: ``SILENT``); outside it, it restarts the window (``ALLOW``).
    """

    def __init__(self, state: SharedState, seconds: float) -> None:
        self.state = state
        self._fallback = Cooldown(seconds)
        self._complaints = _Complaints("cooldowns")

    @property
    def seconds(self) -> float:
        """The cooldown; a knowledge reload sets it."""
        return self._fallback.seconds

    @seconds.setter
    def seconds(self, value: float) -> None:
        self._fallback.seconds = value

    def check(self, member: str) -> Verdict:
        """Record a request from ``member`` and say whether to serve it."""
        seconds = self.seconds
        if seconds <= 0:
            return Verdict.ALLOW
        now = self.state.now()
        statement = insert(cooldowns).values(
            member_hash=self.state.hashed(member), last_at=now, refused=0
        )
        inside = cooldowns.c.last_at > statement.excluded.last_at - seconds
        statement = statement.on_conflict_do_update(
            index_elements=[cooldowns.c.member_hash],
            set_={
                "last_at": case((inside, cooldowns.c.last_at), else_=statement.excluded.last_at),
                "refused": case((inside, func.least(cooldowns.c.refused + 1, 2)), else_=0),
            },
        ).returning(cooldowns.c.refused)
        try:
            with self.state.engine.begin() as connection:
                refused = connection.execute(statement).scalar_one()
        except SQLAlchemyError as error:
            self._complaints.failed(error)
            return self._fallback.check(member)
        return (Verdict.ALLOW, Verdict.WARN, Verdict.SILENT)[refused]


class SharedAlerts:
    """``AlertLimiter`` across replicas: a member row and ``per_channel`` slots per channel.

    One short transaction: claim the member (no alert about them within the window), then
    the oldest free slot of the channel (``SKIP LOCKED``: a replica claiming another slot
    at the same moment is not waited for); no free slot rolls the member claim back.
    """

    def __init__(self, state: SharedState, window_seconds: float, per_channel: int) -> None:
        self.state = state
        self.window_seconds = window_seconds
        self.per_channel = per_channel
        self._fallback = AlertLimiter(window_seconds, per_channel)
        self._complaints = _Complaints("alert limits")

    def allow(self, member: str, channel: str) -> bool:
        """Record and allow an alert about ``member`` in ``channel``, or refuse it."""
        try:
            return self._allow(self.state.hashed(member), self.state.hashed(channel))
        except SQLAlchemyError as error:
            self._complaints.failed(error)
            return self._fallback.allow(member, channel)

    def _allow(self, member_hash: str, channel_hash: str) -> bool:
        now = self.state.now()
        since = now - self.window_seconds
        claim_member = insert(alert_members).values(member_hash=member_hash, alerted_at=now)
        claim_member = claim_member.on_conflict_do_update(
            index_elements=[alert_members.c.member_hash],
            set_={"alerted_at": claim_member.excluded.alerted_at},
            where=alert_members.c.alerted_at <= since,
        ).returning(alert_members.c.member_hash)
        slots: list[dict[str, Any]] = [
            {"channel_hash": channel_hash, "slot": slot, "sent_at": 0.0}
            for slot in range(self.per_channel)
        ]
        make_slots = insert(alert_slots).values(slots).on_conflict_do_nothing()
        free_slot = (
            select(alert_slots.c.slot)
            .where(
                alert_slots.c.channel_hash == channel_hash,
                alert_slots.c.slot < self.per_channel,
                alert_slots.c.sent_at <= since,
            )
            .order_by(alert_slots.c.sent_at, alert_slots.c.slot)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        take_slot = (
            update(alert_slots)
            .where(alert_slots.c.channel_hash == channel_hash, alert_slots.c.slot == free_slot)
            .values(sent_at=now)
            .returning(alert_slots.c.slot)
        )
        with self.state.engine.connect() as connection, connection.begin() as transaction:
            if connection.execute(claim_member).first() is None:
                return False  # alerted about this member within the window
            connection.execute(make_slots)
            if connection.execute(take_slot).first() is None:
                transaction.rollback()  # the channel is at its cap: the member claim too
                return False
        return True
