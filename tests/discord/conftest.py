"""Fixtures: a fake Discord on loopback, and the real discord.py client connected to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.adapters.discord import KetamineCog
from bot.adapters.discord.config import DiscordSettings
from bot.adapters.discord.runner import build_bot
from bot.core.cooldown import Cooldown
from bot.core.reply import ReplyKind
from bot.core.service import BotService
from tests.discord.fake_discord import FakeDiscord, Recorded

READY_TIMEOUT = 0.02  # seconds discord.py waits for more GUILD_CREATEs before READY
MESSAGES = r"/channels/\d+/messages"
CALLBACKS = r"/interactions/\d+/[^/]+/callback"


@pytest.fixture()
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", server.gateway)
    yield server
    await server.close()


@contextlib.asynccontextmanager
async def connected(bot: commands.Bot, fake: FakeDiscord) -> AsyncIterator[commands.Bot]:
    """Log ``bot`` in to the fake and keep its gateway connection up for the block."""
    await bot.login(fake.token)
    connection = asyncio.create_task(bot.connect())
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(connection, 5)


def standalone_bot(settings: DiscordSettings | None = None, **options: Any) -> commands.Bot:
    settings = settings or DiscordSettings(token="unused")
    return build_bot(settings, guild_ready_timeout=READY_TIMEOUT, **options)


@pytest.fixture()
async def bot(fake: FakeDiscord, service: BotService) -> AsyncIterator[commands.Bot]:
    """The standalone runner's bot with the cog, connected to the fake."""
    client = standalone_bot()
    await client.add_cog(KetamineCog(client, service=service))
    async with connected(client, fake):
        yield client


async def post_message(
    fake: FakeDiscord, data: dict[str, Any], *, count: int = 1
) -> list[Recorded]:
    """Push MESSAGE_CREATE and return the next ``count`` messages the bot posts."""
    since = len(fake.requests)
    await fake.dispatch("MESSAGE_CREATE", data)
    return await fake.wait_for_request("POST", MESSAGES, since=since, count=count)


async def interact(fake: FakeDiscord, data: dict[str, Any]) -> Recorded:
    """Push INTERACTION_CREATE and return the bot's interaction callback."""
    since = len(fake.requests)
    await fake.dispatch("INTERACTION_CREATE", data)
    [callback] = await fake.wait_for_request("POST", CALLBACKS, since=since)
    return callback


def embed_of(request: Recorded) -> dict[str, Any]:
    """The one embed in a message or callback body."""
    body = request.body.get("data", request.body)
    [embed] = body["embeds"]
    return embed


def text_of(request: Recorded) -> str:
    """Everything a reader could see in a sent message: content, embeds, buttons."""
    return json.dumps(request.body, ensure_ascii=False)


class ReadingTime:
    """The member's cooldown on a clock the test moves: reading an answer takes time.

    The core counts every question, private ones too, against the per-member cooldown;
    a member who presses "Share in channel" has read the answer first.
    """

    def __init__(self, service: BotService) -> None:
        self.now = 1000.0
        self.seconds = service.knowledge.limits.cooldown_seconds
        service.cooldown = Cooldown(self.seconds, lambda: self.now)

    def passes(self) -> None:
        """Let the cooldown run out, as it does while the member reads."""
        self.now += self.seconds


ADVICE_QUESTIONS = [
    "what dose of ketamine should my husband get",
    "is it safe for me to take ketamine while pregnant",
    "should i stop my sertraline before ketamine",
    "can i mix ketamine with my zoloft",
]


def advice_question(service: BotService) -> str:
    """A personal medical question the safety screen answers with advice and a suggestion."""
    for candidate in ADVICE_QUESTIONS:
        reply = service.responder.respond(candidate)
        if reply.kind is ReplyKind.ADVICE and reply.suggestions:
            return candidate
    raise AssertionError("no advice question gets an advice reply with a related entry")


def clarifying_question(service: BotService) -> str:
    """A question the current knowledge base answers with "did you mean" suggestions."""
    words = sorted(
        {
            word.strip("?,.").lower()
            for entry in service.knowledge.entries.values()
            for word in entry.question.split()
        }
    )
    for candidate in ["ketamine", "ptsd", "therapy", "study", *words]:
        reply = service.responder.respond(candidate)
        if reply.kind is ReplyKind.CLARIFY and len(reply.suggestions) > 1:
            return candidate
    raise AssertionError("no single word gets a 'did you mean' reply from this knowledge base")
