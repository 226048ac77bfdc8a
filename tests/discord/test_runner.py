"""``serve_discord``: login, command sync, sharding and shutdown against the fake."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.runner import serve_discord
from bot.core.service import BotService
from tests.discord import payloads
from tests.discord.conftest import READY_TIMEOUT, post_message
from tests.discord.fake_discord import FakeDiscord

GUILD_COMMANDS = rf"/applications/{payloads.APPLICATION_ID}/guilds/{payloads.GUILD_ID}/commands"


def serve(service: BotService, settings: DiscordSettings, stop: asyncio.Event) -> asyncio.Task[int]:
    return asyncio.create_task(
        serve_discord(service, settings, stop=stop, guild_ready_timeout=READY_TIMEOUT)
    )


async def test_runs_syncs_to_the_guild_answers_and_stops_cleanly(
    fake: FakeDiscord, service: BotService
) -> None:
    stop = asyncio.Event()
    running = serve(service, DiscordSettings(fake.token, guild_id=payloads.GUILD_ID), stop)

    [upload] = await fake.wait_for_request("PUT", GUILD_COMMANDS)
    await fake.wait_until(fake.is_live)
    question = next(iter(service.knowledge.entries.values())).question
    [sent] = await post_message(fake, payloads.mention(question))
    stop.set()

    assert await asyncio.wait_for(running, 5) == 0
    assert {command["name"] for command in upload.body} == {
        "ketamine",
        "ketamine-sources",
        "ketamine-reload",
        "ketamine-unanswered",
    }
    assert sent.body["embeds"][0]["title"] == question
    assert sent.body["allowed_mentions"] == {"parse": [], "replied_user": False}


async def test_sharded_bot_asks_for_shards_and_identifies_as_one(
    fake: FakeDiscord, service: BotService
) -> None:
    stop = asyncio.Event()
    running = serve(service, DiscordSettings(fake.token, sharded=True), stop)

    await fake.wait_until(fake.is_live)
    question = next(iter(service.knowledge.entries.values())).question
    [sent] = await post_message(fake, payloads.mention(question))
    stop.set()

    assert await asyncio.wait_for(running, 5) == 0
    assert fake.sent("GET", r"/gateway/bot")
    [identify] = fake.identifies
    assert identify["shard"] == [0, 1]
    assert identify["intents"] == 1 | 1 << 9 | 1 << 12
    assert sent.body["embeds"][0]["title"] == question


async def test_a_token_discord_rejects_exits_2_with_one_line(
    fake: FakeDiscord, service: BotService, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "MTExMTExMTExMTExMTExMTEx.GxXxXx.wrong-token-0123456789abcdefghijklmnopq"

    code = await serve_discord(service, DiscordSettings(wrong), guild_ready_timeout=READY_TIMEOUT)

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "DISCORD_TOKEN" in err
    assert wrong not in err
    assert not fake.identifies


async def test_a_token_the_gateway_rejects_exits_2(
    fake: FakeDiscord, service: BotService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.gateway_token = "a-different-token"

    code = await asyncio.wait_for(
        serve_discord(service, DiscordSettings(fake.token), guild_ready_timeout=READY_TIMEOUT), 10
    )

    assert code == 2
    assert "DISCORD_TOKEN" in capsys.readouterr().err


async def test_a_guild_the_bot_cannot_register_in_exits_2_naming_it(
    fake: FakeDiscord, service: BotService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("PUT", GUILD_COMMANDS, 403, body={"message": "Missing Access", "code": 50001})

    code = await serve_discord(
        service,
        DiscordSettings(fake.token, guild_id=payloads.GUILD_ID),
        guild_ready_timeout=READY_TIMEOUT,
    )

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "DISCORD_GUILD_ID" in err


async def test_a_failed_global_sync_is_not_fatal(fake: FakeDiscord, service: BotService) -> None:
    fake.fail("PUT", rf"/applications/{payloads.APPLICATION_ID}/commands", 400)
    stop = asyncio.Event()
    running = serve(service, DiscordSettings(fake.token), stop)

    await fake.wait_until(fake.is_live)
    stop.set()

    assert await asyncio.wait_for(running, 5) == 0


async def test_an_unexpected_login_failure_exits_1_with_one_line(
    fake: FakeDiscord, service: BotService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("GET", r"/users/@me", 400)

    code = await serve_discord(service, DiscordSettings(fake.token))

    err = capsys.readouterr().err
    assert code == 1
    assert err == "ketamine-bot run discord: could not log in to Discord (400)\n"
