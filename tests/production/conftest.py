"""Fixtures for the production tests: the fake Slack and the fake Discord on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord.gateway import DiscordWebSocket

from tests.discord.fake_discord import FakeDiscord
from tests.slack.fake_slack import FakeSlack


@pytest.fixture()
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture()
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord (REST and gateway) with discord.py pointed at it."""
    server = FakeDiscord(shards=3)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", server.gateway)
    yield server
    await server.close()
