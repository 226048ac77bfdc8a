"""The state replicas share through PostgreSQL decides exactly as one process does in memory.

Needs PostgreSQL (``.ci/run`` sets TEST_DATABASE_URL). Each gate is run side by side with
its in-memory twin on the same clock and the same requests; then several threads (as
replicas would) race for the same event, member and channel.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import Engine, create_engine

from bot.core.alerts import AlertLimiter
from bot.core.cooldown import Cooldown, Verdict
from bot.storage.config import database_url
from bot.storage.shared_state import SharedState, shared_metadata

DATABASE = os.environ.get("TEST_DATABASE_URL")
SECRET = b"shared-state-tests"

pytestmark = pytest.mark.skipif(
    not DATABASE, reason="needs PostgreSQL: .ci/run starts one and sets TEST_DATABASE_URL"
)


class Clock:
    """Seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def engine() -> Iterator[Engine]:
    assert DATABASE is not None
    engine = create_engine(database_url(DATABASE))
    shared_metadata.drop_all(engine)
    yield engine
    shared_metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def state(engine: Engine, clock: Clock) -> SharedState:
    shared = SharedState(engine, SECRET, clock)
    shared.create_tables()
    return shared


def test_an_event_is_claimed_once(state: SharedState) -> None:
    events = state.events()
    assert events.claim("Ev1") is True
    assert events.claim("Ev1") is False
    assert state.events().claim("Ev1") is False  # another replica's record: the same table
    assert events.claim("Ev2") is True


def test_the_cooldown_gives_the_in_memory_verdicts(state: SharedState, clock: Clock) -> None:
    shared = state.cooldown(3)
    memory = Cooldown(3, clock=clock)
    pace = random.Random(12)
    for _ in range(300):
        member = pace.choice(["slack:T1:U1", "slack:T1:U2", "discord:7"])
        assert shared.check(member) is memory.check(member), (member, clock.now)
        clock.now += pace.choice([0.0, 0.5, 1.0, 2.9, 3.0, 3.1, 10.0])


def test_the_cooldown_warns_once_then_stays_quiet(state: SharedState, clock: Clock) -> None:
    shared = state.cooldown(60)
    assert [shared.check("m") for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.SILENT,
        Verdict.SILENT,
    ]
    clock.now += 60
    assert shared.check("m") is Verdict.ALLOW
    assert shared.check("m") is Verdict.WARN  # warned again in the new window
    shared.seconds = 0  # a reload turned it off
    assert shared.check("m") is Verdict.ALLOW


def test_alert_limits_match_the_in_memory_ones(state: SharedState, clock: Clock) -> None:
    shared = state.alerts(window_seconds=600, per_channel=2)
    memory = AlertLimiter(600, 2, clock=clock)
    pace = random.Random(5)
    for _ in range(300):
        member = pace.choice(["a", "b", "c", "d"])
        channel = pace.choice(["C1", "C2"])
        assert shared.allow(member, channel) is memory.allow(member, channel), clock.now
        clock.now += pace.choice([0.0, 30.0, 120.0, 599.0, 600.0])


def test_expire_deletes_only_rows_past_their_window(state: SharedState, clock: Clock) -> None:
    state.events().claim("old")
    state.cooldown(3).check("m")
    state.alerts(600, 1).allow("m", "C1")
    clock.now += 601
    state.events().claim("new")
    removed = state.expire(events_seconds=3600, cooldown_seconds=3, window_seconds=600)
    assert removed == 3  # the cooldown row, the member's alert and the channel's slot
    assert state.events().claim("old") is False  # still within the hour Slack may retry in
    assert state.alerts(600, 1).allow("m", "C1") is True


def race(workers: int, attempt: object) -> list[object]:
    """Run ``attempt()`` in ``workers`` threads released at the same moment."""
    start = Barrier(workers)

    def together() -> object:
        start.wait()
        return attempt()  # type: ignore[operator]

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: together(), range(workers)))


def test_racing_replicas_agree(engine: Engine) -> None:
    replicas = [SharedState(engine, SECRET) for _ in range(8)]  # the database's clock
    replicas[0].create_tables()
    turn = iter(range(1_000))

    def claim() -> bool:
        return replicas[next(turn) % 8].events().claim("EvRace")

    assert sorted(race(8, claim)) == [False] * 7 + [True]

    def check() -> Verdict:
        return replicas[next(turn) % 8].cooldown(60).check("slack:T1:U9")

    verdicts = race(8, check)
    assert verdicts.count(Verdict.ALLOW) == 1 and verdicts.count(Verdict.WARN) == 1
    assert verdicts.count(Verdict.SILENT) == 6

    members = iter(f"member{number}" for number in range(8))

    def alert() -> bool:
        return replicas[next(turn) % 8].alerts(600, 3).allow(next(members), "C1")

    assert race(8, alert).count(True) == 3  # the channel's cap, whichever replicas won
