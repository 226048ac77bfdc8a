"""Two ``ketamine-bot run slack`` replicas behind one Slack URL, sharing one PostgreSQL.

Needs a PostgreSQL server: ``.ci/run`` starts one on loopback and sets TEST_DATABASE_URL.
Slack delivers each event to one replica and may redeliver it (``X-Slack-Retry-Num``) or
deliver it twice at once to either; the same signed bodies go to both replicas here, in
turn. What members and moderators see must be what one process would have shown them:
each question answered once, a member's second question inside the cooldown held back
whichever replica it lands on, and crisis alerts limited across replicas.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine

from bot.adapters.slack.render import render_notice, render_text
from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.knowledge import load_knowledge
from bot.storage.config import database_url
from bot.storage.shared_state import shared_metadata
from bot.storage.store import metadata
from tests.production.process import BotProcess, slack_environment
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_requests import event_callback, mention, sign

DATABASE = os.environ.get("TEST_DATABASE_URL")
SECRET = "replicas-share-this-secret"
ALERTS = "CMODS"
ANSWER_TIMEOUT = 30.0  # the first answer of a cold process loads the encoder
QUESTIONS = {  # member: an ordinary knowledge question (no safety signal in it)
    "U1": "what is the pcl-5",
    "U2": "who funded the study",
    "U3": "what is the pcl-5",
    "U4": "who funded the study",
}
CRISIS = "i want to kill myself"  # on the safety screen's phrase floor: always a crisis

pytestmark = pytest.mark.skipif(
    not DATABASE, reason="needs PostgreSQL: .ci/run starts one and sets TEST_DATABASE_URL"
)


@pytest.fixture()
def empty_database() -> Iterator[str]:
    assert DATABASE is not None
    engine = create_engine(database_url(DATABASE))
    try:
        metadata.drop_all(engine)
        shared_metadata.drop_all(engine)
        yield DATABASE
        shared_metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture()
def slow_knowledge(folder: Path) -> Path:
    """The shipped knowledge with a 10-minute cooldown and one alert per channel."""
    settings = folder / "settings.yaml"
    text = settings.read_text()
    assert "  cooldown_seconds: 3\n" in text
    settings.write_text(
        text.replace(
            "  cooldown_seconds: 3\n", "  cooldown_seconds: 600\n  alerts_per_channel: 1\n"
        )
    )
    return folder


class Replicas:
    """Delivers signed Events API bodies to the replicas, as Slack and a balancer would."""

    def __init__(self, session: aiohttp.ClientSession, ports: list[int]) -> None:
        self.session = session
        self.ports = ports

    async def deliver(self, replica: int, body: str, retry: int = 0) -> None:
        headers = {"Content-Type": "application/json", **sign(body)}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        url = f"http://127.0.0.1:{self.ports[replica]}/slack/events"
        async with self.session.post(url, data=body.encode(), headers=headers) as response:
            assert response.status == 200  # acked, whether or not this replica answers


def envelope(event: dict[str, Any]) -> str:
    return json.dumps(event_callback(event))


def in_thread(fake: FakeSlack, ts: str) -> list[dict[str, Any]]:
    """Messages posted in the thread of the member message ``ts``: the answers to it."""
    return [body for body in fake.bodies("chat.postMessage") if body.get("thread_ts") == ts]


def posted_to(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [body for body in fake.bodies("chat.postMessage") if body.get("channel") == channel]


async def test_two_replicas_answer_each_event_once_and_share_limits(
    fake_slack: FakeSlack, tmp_path: Path, empty_database: str, slow_knowledge: Path
) -> None:
    knowledge = load_knowledge(slow_knowledge)
    responder = Responder(knowledge)
    for question in set(QUESTIONS.values()):
        assert responder.respond(question).kind is ReplyKind.ANSWER, question
    cooldown_notice = render_notice(knowledge.replies.interface.cooldown)["text"]
    shared = {
        "DATABASE_URL": empty_database,
        "STORAGE_SECRET": SECRET,
        "KNOWLEDGE_DIR": str(slow_knowledge),
        "SLACK_MOD_ALERT_CHANNEL": ALERTS,
    }
    # both start at once on an empty database, as a scaled-out deploy does
    bots = await asyncio.gather(
        BotProcess.start(slack_environment(fake_slack.api_url, tmp_path / "a", **shared)),
        BotProcess.start(slack_environment(fake_slack.api_url, tmp_path / "b", **shared)),
    )
    try:
        await asyncio.gather(*(bot.wait_for_record("ready") for bot in bots))
        started = [await bot.wait_for_record("started") for bot in bots]
        assert [record["shared_state"] for record in started] == ["postgresql"] * 2
        ports = [await bot.port() for bot in bots]
        async with aiohttp.ClientSession() as session:
            slack = Replicas(session, ports)

            # each member's first question: delivered to one replica and retried on the
            # other, or delivered to both at the same moment and then retried as well
            questions = {member: mention(text, user=member) for member, text in QUESTIONS.items()}
            for number, event in enumerate(questions.values()):
                body, first, other = envelope(event), number % 2, 1 - number % 2
                if number < 2:
                    await slack.deliver(first, body)
                    await slack.deliver(other, body, retry=1)
                else:
                    await asyncio.gather(slack.deliver(first, body), slack.deliver(other, body))
                    await slack.deliver(first, body, retry=2)
            await fake_slack.wait_for(
                lambda: all(in_thread(fake_slack, e["ts"]) for e in questions.values()),
                ANSWER_TIMEOUT,
            )

            # U1 asked through replica 0 (and its retry went to 1): within the cooldown,
            # the next question is held back on either replica, with one notice
            again = [mention("who funded the study", user="U1") for _ in range(3)]
            for number, event in enumerate(again):
                await slack.deliver((number + 1) % 2, envelope(event))
            await fake_slack.wait_for(
                lambda: fake_slack.bodies("chat.postEphemeral"), ANSWER_TIMEOUT
            )

            # crisis alerts: one per member and (here) one per channel, across replicas
            crises = [
                (0, mention(CRISIS, user="U7", channel="C1")),  # alerted
                (1, mention(CRISIS, user="U7", channel="C1")),  # same member: no alert
                (0, mention(CRISIS, user="U8", channel="C1")),  # same channel: no alert
                (1, mention(CRISIS, user="U9", channel="C2")),  # alerted
            ]
            for number, (replica, event) in enumerate(crises):
                body = envelope(event)
                await slack.deliver(replica, body)
                await slack.deliver(1 - replica, body, retry=1)
                if number == 0:  # the channel's one alert goes to U7's first message
                    await fake_slack.wait_for(lambda: posted_to(fake_slack, ALERTS), ANSWER_TIMEOUT)
            await fake_slack.wait_for(
                lambda: len(posted_to(fake_slack, ALERTS)) == 2, ANSWER_TIMEOUT
            )

        for bot in bots:  # SIGTERM lets every acknowledged answer finish first
            bot.signal()
        assert [await bot.wait() for bot in bots] == [0, 0]
    finally:
        for bot in bots:
            await bot.kill()

    for event in questions.values():  # answered exactly once, by one replica
        [answer] = in_thread(fake_slack, event["ts"])
        assert answer["channel"] == event["channel"]
        assert answer["text"] == render_text(responder.respond(QUESTIONS[event["user"]]))
    for event in again:
        assert in_thread(fake_slack, event["ts"]) == []
    # told once, privately, whichever replica the second question landed on; then quiet
    cooled = [
        (body["user"], body["channel"])
        for body in fake_slack.bodies("chat.postEphemeral")
        if body.get("text") == cooldown_notice
    ]
    assert cooled == [("U1", again[0]["channel"])]

    # every crisis message got its private reply once (a DM), retries or not
    crisis_dms = Counter(
        body["channel"]
        for body in fake_slack.bodies("chat.postMessage")
        if body["channel"] in {"U7", "U8", "U9"}
    )
    assert crisis_dms == {"U7": 2, "U8": 1, "U9": 1}
    # two alerts: U7's first message in C1 and U9's in C2, each a link to the message
    alerts = [body["text"] for body in posted_to(fake_slack, ALERTS)]
    assert len(alerts) == 2
    assert f"/C1/p{crises[0][1]['ts'].replace('.', '')}" in alerts[0]
    assert f"/C2/p{crises[3][1]['ts'].replace('.', '')}" in alerts[1]
