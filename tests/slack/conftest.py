"""Fixtures: a fake Slack, and the real runner serving the real Bolt app on 127.0.0.1.

The tests answer from the shipped knowledge base and compute what they expect from the
live responder, so a moderator's edit to an answer never breaks them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.slack.handlers import SlackAdapter
from bot.adapters.slack.runner import SlackRuntime
from bot.adapters.slack.settings import EVENTS_PATH, SlackSettings
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, load_knowledge
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_requests import (
    BOT_TOKEN,
    SIGNING_SECRET,
    button_click,
    event_callback,
    sign,
    slash_command,
)

KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"
FORM = "application/x-www-form-urlencoded"


class SlackHarness:
    """Sends signed requests to the running bot and waits until it has answered them."""

    def __init__(self, runtime: SlackRuntime, fake: FakeSlack, session: aiohttp.ClientSession):
        self.runtime = runtime
        self.fake = fake
        self._session = session

    @property
    def adapter(self) -> SlackAdapter:
        assert self.runtime.adapter is not None
        return self.runtime.adapter

    @property
    def service(self) -> BotService:
        return self.adapter.service

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.port}{EVENTS_PATH}"

    async def post(self, body: str, headers: dict[str, str], content_type: str) -> tuple[int, str]:
        """POST exactly ``body`` with ``headers``; return the HTTP status and response text."""
        async with self._session.post(
            self.url, data=body.encode(), headers={"Content-Type": content_type, **headers}
        ) as response:
            return response.status, await response.text()

    async def send_event(self, event: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Deliver ``event`` signed; return the envelope (its ``event_id`` identifies it)."""
        envelope = event_callback(event, **extra)
        body = json.dumps(envelope)
        status, _ = await self.post(body, sign(body), "application/json")
        assert status == 200
        return envelope

    async def command(self, command: str, text: str, response_url: str, **extra: Any) -> str:
        """Run a slash command; return the ack body Slack would show (empty: nothing)."""
        body = slash_command(command, text, response_url=response_url, **extra)
        status, ack = await self.post(body, sign(body), FORM)
        assert status == 200
        return ack

    async def click(self, action_id: str, value: str, response_url: str, **extra: Any) -> None:
        body = button_click(action_id, value, response_url=response_url, **extra)
        status, _ = await self.post(body, sign(body), FORM)
        assert status == 200

    async def settle(self) -> None:
        """Wait until every acknowledged request has been answered."""
        assert await self.adapter.idle(timeout=10), "the bot did not finish answering"


@pytest.fixture(scope="session")
def slack_knowledge() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE_DIR)


@pytest.fixture()
def slack_service(slack_knowledge: KnowledgeBase) -> BotService:
    """A fresh service per test, so cooldowns never leak between tests."""
    return BotService(slack_knowledge)


@pytest.fixture()
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


def http_settings(fake: FakeSlack, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.api_url,
        "port": 0,
        "host": "127.0.0.1",
    }
    return SlackSettings(**{**values, **overrides})


@pytest.fixture()
async def slack(fake_slack: FakeSlack, slack_service: BotService) -> AsyncIterator[SlackHarness]:
    """The standalone runner in HTTP mode, signed in to the fake (its auth.test forgotten)."""
    runtime = SlackRuntime(slack_service, http_settings(fake_slack))
    await runtime.start()
    fake_slack.clear()
    try:
        async with aiohttp.ClientSession() as session:
            yield SlackHarness(runtime, fake_slack, session)
    finally:
        await runtime.stop()
