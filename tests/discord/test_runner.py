"""``ketamine-bot run discord`` (``bot.runner.serve``): login, sync, shards, stop, failures."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.runner import IDENTIFY_INTERVAL, build_bot
from bot.core.service import BotService
from bot.runner import Plan, serve
from bot.settings import Settings
from tests.discord import payloads
from tests.discord.conftest import READY_TIMEOUT, post_message
from tests.discord.fake_discord import FakeDiscord

GUILD_COMMANDS = rf"/applications/{payloads.APPLICATION_ID}/guilds/{payloads.GUILD_ID}/commands"
ANY_COMMANDS = rf"/applications/{payloads.APPLICATION_ID}/(guilds/\d+/)?commands"


def plan(settings: DiscordSettings, tmp_path: Path, **values: Any) -> Plan:
    """What ``ketamine-bot run discord`` runs, with its storage in the test's folder."""
    return Plan(
        Settings(_env_file=None, STORAGE_PATH=str(tmp_path / "bot.sqlite3"), **values),
        ["discord"],
        discord=settings,
        options={"guild_ready_timeout": READY_TIMEOUT},
    )


def start(service: BotService, running: Plan, stop: asyncio.Event) -> asyncio.Task[int]:
    return asyncio.create_task(serve(service, running, stop))


def a_question(service: BotService) -> str:
    return next(iter(service.knowledge.entries.values())).question


async def test_runs_syncs_to_the_guild_answers_and_stops_cleanly(
    fake: FakeDiscord, service: BotService, tmp_path: Path
) -> None:
    stop = asyncio.Event()
    settings = DiscordSettings(fake.token, guild_id=payloads.GUILD_ID)
    running = start(service, plan(settings, tmp_path), stop)

    [upload] = await fake.wait_for_request("PUT", GUILD_COMMANDS)
    await fake.wait_until(fake.is_live)
    [sent] = await post_message(fake, payloads.mention(a_question(service)))
    stop.set()

    assert await asyncio.wait_for(running, 5) == 0
    assert {command["name"] for command in upload.body} == {
        "ketamine",
        "ketamine-sources",
        "ketamine-reload",
        "ketamine-unanswered",
    }
    assert sent.body["embeds"][0]["title"] == a_question(service)
    assert sent.body["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert not fake.is_live()


async def test_two_shards_in_one_process_identify_at_once_as_max_concurrency_allows(
    service: BotService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDiscord(shards=2, max_concurrency=2)
    await fake.start()
    monkeypatch.setattr("discord.http.Route.BASE", fake.api_base)
    monkeypatch.setattr("discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY", fake.gateway)
    stop = asyncio.Event()
    try:
        running = start(service, plan(DiscordSettings(fake.token, sharded=True), tmp_path), stop)
        await fake.wait_until(lambda: fake.is_live(0) and fake.is_live(1))
        home = (payloads.GUILD_ID >> 22) % 2  # the shard Discord delivers this server's events on
        since = len(fake.requests)
        await fake.dispatch("MESSAGE_CREATE", payloads.mention(a_question(service)), shard_id=home)
        [sent] = await fake.wait_for_request("POST", r"/channels/\d+/messages", since=since)
        stop.set()
        assert await asyncio.wait_for(running, 5) == 0
    finally:
        await fake.close()

    assert fake.sent("GET", r"/gateway/bot")  # the recommended count and max_concurrency
    assert sorted(identify["shard"] for identify in fake.identifies) == [[0, 2], [1, 2]]
    assert all(identify["intents"] == 1 | 1 << 9 | 1 << 12 for identify in fake.identifies)
    first, second = fake.identified_at
    assert abs(second - first) < IDENTIFY_INTERVAL  # two buckets: no 5 s wait between them
    assert fake.sent("PUT", ANY_COMMANDS)  # shard 0 runs here: this process syncs
    assert sent.body["embeds"][0]["title"] == a_question(service)


async def test_shard_ids_from_the_settings_run_only_those_and_skip_the_sync(
    fake: FakeDiscord, service: BotService, tmp_path: Path
) -> None:
    fake.shard_count = 2
    settings = DiscordSettings.from_environment(
        {"DISCORD_TOKEN": fake.token, "SHARD_COUNT": "2", "SHARD_IDS": "1"}
    )
    stop = asyncio.Event()
    running = start(service, plan(settings, tmp_path), stop)

    await fake.wait_until(lambda: fake.is_live(1))
    stop.set()

    assert await asyncio.wait_for(running, 5) == 0
    assert [identify["shard"] for identify in fake.identifies] == [[1, 2]]
    assert not fake.sent("PUT", ANY_COMMANDS)  # commands are shard 0's process's to upload


async def test_a_token_discord_rejects_exits_2_with_one_line(
    fake: FakeDiscord, service: BotService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "MTExMTExMTExMTExMTExMTEx.GxXxXx.wrong-token-0123456789abcdefghijklmnopq"

    code = await serve(service, plan(DiscordSettings(wrong), tmp_path), asyncio.Event())

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("ketamine-bot run discord: ")
    assert "DISCORD_TOKEN" in err
    assert wrong not in err
    assert not fake.identifies


async def test_a_token_the_gateway_rejects_exits_2(
    fake: FakeDiscord, service: BotService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.gateway_token = "a-different-token"

    running = serve(service, plan(DiscordSettings(fake.token), tmp_path), asyncio.Event())
    code = await asyncio.wait_for(running, 10)

    assert code == 2
    assert "DISCORD_TOKEN" in capsys.readouterr().err


async def test_a_guild_the_bot_cannot_register_in_exits_2_naming_it(
    fake: FakeDiscord, service: BotService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("PUT", GUILD_COMMANDS, 403, body={"message": "Missing Access", "code": 50001})
    settings = DiscordSettings(fake.token, guild_id=payloads.GUILD_ID)

    code = await serve(service, plan(settings, tmp_path), asyncio.Event())

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "DISCORD_GUILD_ID" in err


async def test_a_failed_global_sync_is_not_fatal(
    fake: FakeDiscord, service: BotService, tmp_path: Path
) -> None:
    fake.fail("PUT", rf"/applications/{payloads.APPLICATION_ID}/commands", 400)
    stop = asyncio.Event()
    running = start(service, plan(DiscordSettings(fake.token), tmp_path), stop)

    await fake.wait_until(fake.is_live)
    stop.set()

    assert await asyncio.wait_for(running, 5) == 0


async def test_an_unexpected_login_failure_exits_1_with_one_line(
    fake: FakeDiscord, service: BotService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("GET", r"/users/@me", 400)

    code = await serve(service, plan(DiscordSettings(fake.token), tmp_path), asyncio.Event())

    err = capsys.readouterr().err
    assert code == 1
    assert err == "ketamine-bot run discord: could not log in to Discord (400)\n"


async def test_an_event_that_arrives_after_close_is_dropped_not_failed() -> None:
    """The 'ready' discord.py holds back while servers load can land after a quick stop."""
    bot = build_bot(DiscordSettings("token.for.tests"))
    await bot.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unawaited handler coroutine would warn
        bot.dispatch("ready")  # discord.py's own Bot raises AttributeError: its loop is gone
        gc.collect()
