"""Rate limits, server errors, refused sends and gateway drops do not stop the bot."""

from __future__ import annotations

import logging

import pytest
from discord.ext import commands

from bot.core.service import BotService
from tests.discord import payloads
from tests.discord.conftest import MESSAGES, post_message
from tests.discord.fake_discord import FakeDiscord


def a_question(service: BotService) -> str:
    return next(iter(service.knowledge.entries.values())).question


async def test_a_429_is_waited_out_and_the_reply_still_arrives(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    fake.rate_limit("POST", MESSAGES, retry_after=0.05)

    limited, retried = await post_message(fake, payloads.mention(a_question(service)), count=2)

    assert limited.body == retried.body  # the same reply, sent again after Retry-After
    assert retried.at - limited.at >= 0.05
    [next_reply] = await post_message(
        fake, payloads.mention(a_question(service), author_id=payloads.next_id())
    )
    assert next_reply.body["embeds"]


async def test_a_500_is_retried_and_the_bot_keeps_answering(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    fake.fail("POST", MESSAGES, 500, body={"message": "500: Internal Server Error", "code": 0})

    failed, retried = await post_message(fake, payloads.mention(a_question(service)), count=2)

    assert failed.body == retried.body
    [next_reply] = await post_message(
        fake, payloads.mention(a_question(service), author_id=payloads.next_id())
    )
    assert next_reply.body["embeds"]


async def test_a_refused_send_is_logged_and_the_next_message_answered(
    fake: FakeDiscord,
    bot: commands.Bot,
    service: BotService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail("POST", MESSAGES, 403, body={"message": "Missing Permissions", "code": 50013})
    question = a_question(service)

    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord"):
        [refused] = await post_message(fake, payloads.mention(question))
        [answered] = await post_message(
            fake, payloads.mention(question, author_id=payloads.next_id())
        )

    assert refused.body["embeds"] == answered.body["embeds"]
    assert any("HTTP 403 (code 50013)" in record.getMessage() for record in caplog.records)
    assert all(question not in record.getMessage() for record in caplog.records)


async def test_after_a_dropped_connection_the_session_resumes_and_answers(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    await post_message(fake, payloads.mention(a_question(service)))
    session_id = bot.ws.session_id
    sequence = bot.ws.sequence

    await fake.drop_connection(code=4000)
    await fake.wait_until(lambda: len(fake.resumes) == 1 and fake.is_live())

    [resume] = fake.resumes
    assert resume == {"token": fake.token, "session_id": session_id, "seq": sequence}
    assert len(fake.identifies) == 1  # resumed, not a new session
    [sent] = await post_message(
        fake, payloads.mention(a_question(service), author_id=payloads.next_id())
    )
    assert sent.body["embeds"]


async def test_a_reconnect_request_is_followed_and_messages_still_answered(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    await fake.request_reconnect()
    await fake.wait_until(lambda: len(fake.resumes) == 1 and fake.is_live())

    [sent] = await post_message(fake, payloads.mention(a_question(service)))

    assert sent.body["embeds"][0]["title"] == a_question(service)
