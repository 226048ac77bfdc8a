"""Two bot processes sharing one PostgreSQL database, as replicas behind a load balancer.

Needs a PostgreSQL server: ``.ci/run`` starts one on loopback and sets TEST_DATABASE_URL.
One member's vote changed through the other replica replaces it (one vote per member per
answer, across replicas); a question one replica could not answer is in the queue the
other shows its moderators.
"""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp
import pytest
from sqlalchemy import create_engine

from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase
from bot.storage import Store, VoteCount
from bot.storage.config import database_url
from bot.storage.store import metadata
from tests.production.process import BotProcess, slack_environment
from tests.production.test_run_slack import FORM, ask
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_requests import button_click, sign, slash_command

DATABASE = os.environ.get("TEST_DATABASE_URL")
SECRET = "replicas-share-this-secret"
MODERATOR = "UMOD1"
UNANSWERABLE = "what is the capital of peru"

pytestmark = pytest.mark.skipif(
    not DATABASE, reason="needs PostgreSQL: .ci/run starts one and sets TEST_DATABASE_URL"
)


@pytest.fixture()
def empty_database() -> str:
    assert DATABASE is not None
    engine = create_engine(database_url(DATABASE))
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    return DATABASE


def vote(action_id: str, entry_id: str, *, member: str, message_ts: str, response_url: str) -> str:
    """A click on an answer's Helpful / Not helpful button, as Slack posts it."""
    return button_click(
        action_id,
        entry_id,
        response_url=response_url,
        ephemeral=False,
        user=member,
        message_ts=message_ts,
    )


async def post(session: aiohttp.ClientSession, port: int, body: str) -> None:
    headers = {"Content-Type": FORM, **sign(body)}
    async with session.post(
        f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=headers
    ) as response:
        assert response.status == 200


async def landed(url: str, question: str, timeout: float = 10.0) -> None:
    """Wait until ``question`` is in the database's unanswered queue."""

    def queued() -> bool:
        with Store.open(url, secret=SECRET) as store:
            return any(group.example == question for group in store.unanswered())

    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(queued):
        assert asyncio.get_running_loop().time() < deadline, "the record never landed"
        await asyncio.sleep(0.05)


async def test_two_replicas_see_each_others_votes_and_unanswered_questions(
    fake_slack: FakeSlack,
    tmp_path,
    empty_database: str,
    knowledge: KnowledgeBase,
    responder: Responder,
) -> None:
    assert responder.respond(UNANSWERABLE).kind is ReplyKind.FALLBACK
    entry_id = next(iter(knowledge.entries))
    shared = {
        "DATABASE_URL": empty_database,
        "STORAGE_SECRET": SECRET,
        "MOD_USER_IDS": MODERATOR,
    }
    # both start at once on an empty database, as a scaled-out deploy does
    first, second = await asyncio.gather(
        BotProcess.start(slack_environment(fake_slack.api_url, tmp_path / "a", **shared)),
        BotProcess.start(slack_environment(fake_slack.api_url, tmp_path / "b", **shared)),
    )
    replies = 0

    async def answered() -> None:
        nonlocal replies
        replies += 1
        await fake_slack.wait_for(lambda: len(fake_slack.bodies("response_url")) >= replies)

    try:
        await asyncio.gather(first.wait_for_record("ready"), second.wait_for_record("ready"))
        a, b = await first.port(), await second.port()
        clicks = [  # (replica, button, member)
            (a, "ketamine_vote_helpful", "U1"),
            (b, "ketamine_vote_not_helpful", "U1"),  # U1 changes their mind on the other one
            (b, "ketamine_vote_helpful", "U2"),
            (a, "ketamine_vote_helpful", "U3"),
        ]
        async with aiohttp.ClientSession() as session:
            for number, (port, action, member) in enumerate(clicks):
                url = fake_slack.response_url(f"vote{number}")
                await post(
                    session,
                    port,
                    vote(
                        action,
                        entry_id,
                        member=member,
                        message_ts="1700000000.000100",
                        response_url=url,
                    ),
                )
                await answered()
            await ask(session, a, UNANSWERABLE, fake_slack.response_url("q"), member="U4")
            await answered()
            # records are written behind the answer, by a thread of their own: the other
            # replica can list the question once it has landed, not the moment it is answered
            await landed(empty_database, UNANSWERABLE)
            command = slash_command(
                "/ketamine-unanswered",
                "",
                response_url=fake_slack.response_url("m"),
                user=MODERATOR,
            )
            await post(session, b, command)
            await answered()

        first.signal()
        second.signal()
        assert await first.wait() == 0 and await second.wait() == 0
    finally:
        await first.kill()
        await second.kill()

    with Store.open(empty_database, secret=SECRET) as store:
        assert store.votes() == {entry_id: VoteCount(helpful=2, not_helpful=1)}
    [queue] = [call.body for call in fake_slack.calls if call.path == "/response/m"]
    assert UNANSWERABLE in json.dumps(queue)
