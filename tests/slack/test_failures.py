"""When Slack fails (HTTP 500, rate limits) answers are retried or logged, and the bot serves on."""

from __future__ import annotations

import logging
import time

from bot.adapters.slack.delivery import SDK_LOGGER, client_logger
from bot.adapters.slack.render import render_blocks, render_text
from tests.slack.slack_requests import CHANNEL, mention

QUESTION = "how fast does ketamine work?"
NEXT_QUESTION = "what are the side effects"


def attempts(slack, method: str = "chat.postMessage") -> list[int]:
    return [call.status for call in slack.fake.calls if call.method == method]


async def test_http_500_is_retried_and_the_answer_delivered(slack):
    slack.fake.fail("chat.postMessage", status=500)
    event = mention(QUESTION)
    await slack.send_event(event)
    await slack.settle()

    assert attempts(slack) == [500, 200]
    first, second = slack.fake.bodies("chat.postMessage")
    assert first == second  # the same message, sent again
    reply = slack.service.responder.respond(QUESTION)
    assert second["text"] == render_text(reply)
    assert second["blocks"] == render_blocks(reply)
    assert second["thread_ts"] == event["ts"]


async def test_ratelimited_call_waits_for_retry_after_then_delivers(slack):
    slack.fake.fail("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    await slack.send_event(mention(QUESTION))
    await slack.settle()

    assert time.monotonic() - started >= 1.0  # Slack's Retry-After was honoured
    assert attempts(slack) == [429, 200]


async def test_a_call_that_keeps_failing_is_logged_and_the_next_request_is_served(slack, caplog):
    slack.fake.fail("chat.postMessage", status=500, times=3)  # the first try and both retries
    caplog.set_level(logging.WARNING, logger="bot.adapters.slack")
    await slack.send_event(mention(QUESTION))
    await slack.settle()
    await slack.send_event(mention(NEXT_QUESTION, user="U777"))
    await slack.settle()

    assert attempts(slack) == [500, 500, 500, 200]
    assert slack.fake.bodies("chat.postMessage")[-1]["channel"] == CHANNEL
    assert slack.fake.bodies("chat.postMessage")[-1]["text"] == render_text(
        slack.service.responder.respond(NEXT_QUESTION)
    )
    failures = [
        record.getMessage() for record in caplog.records if record.name == "bot.adapters.slack"
    ]
    assert failures == ["Slack: chat.postMessage failed: no error code (HTTP 500)"]
    assert QUESTION not in caplog.text  # logs never carry what members wrote


async def test_slack_error_codes_are_logged_not_raised(slack, caplog):
    slack.fake.fail("chat.postMessage", error="channel_not_found")
    caplog.set_level(logging.WARNING, logger="bot.adapters.slack")
    await slack.send_event(mention(QUESTION))
    await slack.settle()
    assert "Slack: chat.postMessage failed: channel_not_found (HTTP 200)" in caplog.text
    await slack.send_event(mention(NEXT_QUESTION, user="U777"))
    await slack.settle()
    assert attempts(slack) == [200, 200]


async def test_failing_response_url_is_retried_then_logged(slack, caplog):
    slack.fake.fail("response_url", status=500)
    await slack.command("/ketamine-sources", "", slack.fake.response_url("flaky"))
    await slack.settle()
    assert attempts(slack, "response_url") == [500, 200]

    slack.fake.fail("response_url", status=404, error="expired_url")
    caplog.set_level(logging.WARNING, logger="bot.adapters.slack")
    await slack.command("/ketamine-sources", "", slack.fake.response_url("expired"))
    await slack.settle()
    assert "Slack: response_url post failed: HTTP 404" in caplog.text
    status, _ = await slack.post("", {}, "application/json")  # and the server still answers
    assert status == 401


def test_the_client_logger_builds_debug_lines_only_when_debug_is_on() -> None:
    """slack_sdk formats every call's whole body for a debug line when its logger's own
    level is unset; the bot's client logger has the level in effect, and the same name."""
    sdk = logging.getLogger(SDK_LOGGER)
    saved = sdk.level
    try:
        sdk.setLevel(logging.INFO)
        quiet = client_logger()
        assert quiet.name.startswith(SDK_LOGGER)
        assert quiet.level > logging.DEBUG  # slack_sdk checks ``logger.level <= DEBUG``
        sdk.setLevel(logging.DEBUG)
        assert client_logger().level <= logging.DEBUG
    finally:
        sdk.setLevel(saved)
