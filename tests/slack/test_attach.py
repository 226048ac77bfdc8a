"""``attach(app)`` adds the bot to a Bolt app a team already runs; the manifest matches the code."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import (
    KETAMINE_COMMAND,
    RELOAD_COMMAND,
    SOURCES_COMMAND,
    UNANSWERED_COMMAND,
    attach,
)
from bot.adapters.slack.render import render_text
from bot.adapters.slack.settings import EVENTS_PATH
from bot.knowledge import load_knowledge
from tests.slack.conftest import FORM, KNOWLEDGE_DIR
from tests.slack.slack_requests import (
    BOT_TOKEN,
    CHANNEL,
    SIGNING_SECRET,
    event_callback,
    mention,
    sign,
    slash_command,
)

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yaml"


async def test_attach_to_an_existing_app_uses_its_client_and_keeps_its_listeners(
    fake_slack, slack_service
):
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url),
        signing_secret=SIGNING_SECRET,
    )

    @app.command("/team-tool")
    async def team_tool(ack):  # the host app's own listener
        await ack("team tool here")

    adapter = attach(app, slack_service)
    runner = web.AppRunner(app.web_app(path=EVENTS_PATH))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
    try:
        async with aiohttp.ClientSession() as session:
            body = json.dumps(event_callback(mention("how fast does ketamine work?")))
            async with session.post(
                url, data=body, headers={**sign(body), "Content-Type": "application/json"}
            ) as r:
                assert r.status == 200
            command = slash_command("/team-tool", "", response_url=fake_slack.response_url())
            async with session.post(
                url, data=command, headers={**sign(command), "Content-Type": FORM}
            ) as r:
                assert (r.status, await r.text()) == (200, "team tool here")
        assert await adapter.idle(timeout=10)
    finally:
        await runner.cleanup()

    reply = slack_service.responder.respond("how fast does ketamine work?")
    [answer] = fake_slack.bodies("chat.postMessage")  # sent through the app's client and base URL
    assert (answer["channel"], answer["text"]) == (CHANNEL, render_text(reply))
    assert {call.token for call in fake_slack.calls} == {BOT_TOKEN}


def test_attach_without_a_service_loads_the_default_knowledge_base(monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_DIR", str(KNOWLEDGE_DIR))
    app = AsyncApp(token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    adapter = attach(app)
    assert adapter.service.knowledge.directory == KNOWLEDGE_DIR
    assert set(adapter.service.knowledge.entries) == set(load_knowledge(KNOWLEDGE_DIR).entries)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_declares_every_command_event_and_scope_the_adapter_uses(manifest):
    features, settings = manifest["features"], manifest["settings"]
    assert {command["command"] for command in features["slash_commands"]} == {
        KETAMINE_COMMAND,
        SOURCES_COMMAND,
        RELOAD_COMMAND,
        UNANSWERED_COMMAND,
    }
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "app_home_opened",
    }
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "im:write",
        "usergroups:read",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["bot_user"]["display_name"]


def test_manifest_sends_everything_to_the_one_events_path(manifest):
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith(EVENTS_PATH) for url in urls)
    assert len(manifest["display_information"]["description"]) <= 140
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
