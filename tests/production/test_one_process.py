"""Discord and Slack in one process and one event loop, as ``ketamine-bot run`` starts them.

In-process (the fakes patch discord.py's URLs), through ``BotProcess``, the object
``bot.runner.serve`` runs; a test sets the stop event where a signal would.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from bot.adapters.discord.config import DiscordSettings
from bot.core.service import BotService
from bot.ops.process import BotProcess
from bot.runner import Plan
from bot.settings import Settings
from tests.discord import payloads
from tests.discord.conftest import MESSAGES, READY_TIMEOUT, post_message
from tests.discord.fake_discord import FakeDiscord
from tests.slack.conftest import http_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_requests import APP_TOKEN, sign, slash_command

COMMANDS = rf"/applications/{payloads.APPLICATION_ID}/(guilds/\d+/)?commands"


def settings(tmp_path, **values: Any) -> Settings:
    return Settings(_env_file=None, STORAGE_PATH=str(tmp_path / "bot.sqlite3"), **values)


def discord_plan(fake: FakeDiscord, tmp_path, **values: Any) -> Plan:
    return Plan(
        settings(tmp_path, **values),
        ["discord"],
        discord=DiscordSettings(fake.token),
        metrics_port=0,
        options={"guild_ready_timeout": READY_TIMEOUT},
    )


async def start(service: BotService, plan: Plan) -> tuple[BotProcess, asyncio.Event, asyncio.Task]:
    process = BotProcess(service, plan)
    stop = asyncio.Event()
    running = asyncio.create_task(process.run(stop))
    ready = asyncio.create_task(process.ready.wait())
    await asyncio.wait({running, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    assert process.ready.is_set(), f"not ready (exit {running.result() if running.done() else '-'})"
    return process, stop, running


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_discord_and_slack_share_one_process_health_and_metrics(
    fake_discord: FakeDiscord, fake_slack: FakeSlack, service: BotService, tmp_path
) -> None:
    plan = Plan(
        settings(tmp_path),
        ["slack", "discord"],
        slack=http_settings(fake_slack),
        discord=DiscordSettings(fake_discord.token),
        metrics_port=0,
        options={"guild_ready_timeout": READY_TIMEOUT},
    )
    process, stop, running = await start(service, plan)
    slack_port = process.platforms[0].port  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{slack_port}"
    assert process.health_server is not None
    internal = f"http://127.0.0.1:{process.health_server.port}"

    status, ready = await fetch(f"{internal}/readyz")
    assert status == 200
    assert '"platforms": {"slack": true, "discord": true}' in ready

    question = next(iter(service.knowledge.entries.values())).question
    [sent] = await post_message(fake_discord, payloads.mention(question))
    assert sent.body["embeds"][0]["title"] == question
    body = slash_command("/ketamine", question, response_url=fake_slack.response_url("q"))
    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with session.post(f"{base}/slack/events", data=body, headers=headers) as response:
            assert response.status == 200
    await fake_slack.wait_for(lambda: bool(fake_slack.bodies("response_url")))

    status, metrics = await fetch(f"{internal}/metrics")
    lines = metrics.splitlines()
    assert 'ketamine_bot_questions_total{kind="answer",platform="discord"} 1.0' in lines
    assert 'ketamine_bot_questions_total{kind="answer",platform="slack"} 1.0' in lines
    assert 'ketamine_bot_platform_connected{platform="discord"} 1.0' in lines
    assert 'ketamine_bot_platform_connected{platform="slack"} 1.0' in lines

    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
    assert not fake_discord.is_live()
    assert service.listeners == []  # the process took its listeners away again


async def test_shards_split_across_processes_run_only_their_own(
    fake_discord: FakeDiscord, service: BotService, tmp_path
) -> None:
    # one shard: discord.py waits 5 s between a process's identifies, as Discord asks
    plan = discord_plan(fake_discord, tmp_path, SHARD_COUNT=3, SHARD_IDS="1")
    process, stop, running = await start(service, plan)

    assert [identify["shard"] for identify in fake_discord.identifies] == [[1, 3]]
    assert not fake_discord.sent("PUT", COMMANDS)  # only the process with shard 0 syncs
    assert process.health_server is not None
    status, ready = await fetch(f"http://127.0.0.1:{process.health_server.port}/readyz")
    assert status == 200
    assert '"platforms": {"discord": true}' in ready
    # this server's guild lives on shard 1 ((id >> 22) % 3): its mentions come here
    question = next(iter(service.knowledge.entries.values())).question
    since = len(fake_discord.requests)
    await fake_discord.dispatch("MESSAGE_CREATE", payloads.mention(question), shard_id=1)
    [sent] = await fake_discord.wait_for_request("POST", MESSAGES, since=since)
    assert sent.body["embeds"][0]["title"] == question

    stop.set()
    assert await asyncio.wait_for(running, 10) == 0


async def test_shard_zero_syncs_the_commands(
    fake_discord: FakeDiscord, service: BotService, tmp_path
) -> None:
    plan = discord_plan(fake_discord, tmp_path, SHARD_COUNT=3, SHARD_IDS="0")
    _, stop, running = await start(service, plan)

    assert [identify["shard"] for identify in fake_discord.identifies] == [[0, 3]]
    assert fake_discord.sent("PUT", COMMANDS)
    stop.set()
    assert await asyncio.wait_for(running, 10) == 0


async def test_stopping_waits_for_a_discord_answer_in_flight(
    fake_discord: FakeDiscord, service: BotService, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    _, stop, running = await start(service, discord_plan(fake_discord, tmp_path))
    fake_discord.rate_limit("POST", MESSAGES, retry_after=0.3)  # the reply waits, then retries
    question = next(iter(service.knowledge.entries.values())).question
    since = len(fake_discord.requests)

    await fake_discord.dispatch("MESSAGE_CREATE", payloads.mention(question))
    await fake_discord.wait_for_request("POST", MESSAGES, since=since)  # answered with a 429
    with caplog.at_level(logging.INFO, logger="bot.runner"):
        stop.set()
        assert await asyncio.wait_for(running, 10) == 0

    [refused, delivered] = fake_discord.sent("POST", MESSAGES, since=since)  # the retry
    assert delivered.body == refused.body
    assert delivered.body["embeds"][0]["title"] == question
    [stopping] = [r for r in caplog.records if r.getMessage() == "stopping"]
    assert stopping.fields["in_flight"] == 1  # type: ignore[attr-defined]


async def test_socket_mode_is_ready_once_the_websocket_is_open(
    fake_slack: FakeSlack, service: BotService, tmp_path
) -> None:
    slack = http_settings(fake_slack, app_token=APP_TOKEN, socket_mode=True)
    plan = Plan(settings(tmp_path), ["slack"], slack=slack, metrics_port=0)
    process, stop, running = await start(service, plan)
    assert process.health_server is not None
    url = f"http://127.0.0.1:{process.health_server.port}/readyz"

    await fake_slack.wait_for(lambda: fake_slack.connected == 1)
    status, ready = await fetch(url)
    assert (status, '"platforms": {"slack": true}' in ready) == (200, True)

    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
    assert fake_slack.connected == 0
