"""Socket Mode: the runner opens a websocket from apps.connections.open and answers through it."""

from __future__ import annotations

from urllib.parse import parse_qsl

from bot.adapters.slack.render import render_blocks, render_text
from bot.adapters.slack.runner import SlackRuntime
from tests.slack.conftest import http_settings
from tests.slack.slack_requests import APP_TOKEN, CHANNEL, event_callback, mention, slash_command


async def test_socket_mode_acks_envelopes_and_answers(fake_slack, slack_service):
    settings = http_settings(fake_slack, signing_secret=None, app_token=APP_TOKEN, socket_mode=True)
    runtime = SlackRuntime(slack_service, settings)
    await runtime.start()
    try:
        await fake_slack.wait_for(lambda: fake_slack.connected == 1)
        opened = [call for call in fake_slack.calls if call.method == "apps.connections.open"]
        assert [call.token for call in opened] == [APP_TOKEN]  # the app token, not the bot token
        assert runtime.port is None  # no HTTP server in Socket Mode

        event = mention("how fast does ketamine work?")
        await fake_slack.push(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
                "payload": event_callback(event),
            }
        )
        command = dict(
            parse_qsl(
                slash_command("/ketamine-sources", "", response_url=fake_slack.response_url("sm"))
            )
        )
        await fake_slack.push(
            {
                "envelope_id": "env-2",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": command,
            }
        )
        await fake_slack.wait_for(lambda: len(fake_slack.socket_messages) == 2)
        assert runtime.adapter is not None
        assert await runtime.adapter.idle(timeout=10)
    finally:
        await runtime.stop()

    assert sorted(message["envelope_id"] for message in fake_slack.socket_messages) == [
        "env-1",
        "env-2",
    ]
    assert all(
        set(message) == {"envelope_id"} for message in fake_slack.socket_messages
    )  # empty acks
    reply = slack_service.responder.respond("how fast does ketamine work?")
    assert fake_slack.bodies("chat.postMessage") == [
        {
            "channel": CHANNEL,
            "text": render_text(reply),
            "blocks": render_blocks(reply),
            "thread_ts": event["ts"],
            "unfurl_links": False,
            "unfurl_media": False,
            "team_id": "T123",
        }
    ]
    sources = slack_service.responder.sources()
    assert fake_slack.bodies("response_url") == [
        {
            "response_type": "ephemeral",
            "text": render_text(sources),
            "blocks": render_blocks(sources),
        }
    ]
