"""Requests as Slack sends them: bodies for events, slash commands and buttons, and signatures.

Signatures are made with slack-sdk's own ``SignatureVerifier``, the same code Bolt uses to
check them, so a test request is byte-for-byte what Slack would POST.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "5e0a1c2b3d4f5a6b7c8d9e0f1a2b3c4d"
BOT_TOKEN = "xoxb-1111-2222-testtoken"
APP_TOKEN = "xapp-1-A123-3333-testtoken"
MEMBER = "U456"
CHANNEL = "C789"
DM_CHANNEL = "D111"

_numbers = itertools.count(1)


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The two headers Slack adds to every request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def next_ts() -> str:
    return f"1700000000.{next(_numbers):06d}"


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An Events API envelope around ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A123",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_numbers):08d}",
        "event_time": 1700000000,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention(
    text: str, *, user: str = MEMBER, channel: str = CHANNEL, thread_ts: str | None = None
) -> dict[str, Any]:
    """An ``app_mention`` event, as Slack writes it (the bot's mention included)."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": next_ts(),
        "channel": channel,
        "event_ts": next_ts(),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def direct_message(text: str, *, user: str = MEMBER, **extra: Any) -> dict[str, Any]:
    """A ``message`` event in the member's DM with the bot."""
    ts = next_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "channel": DM_CHANNEL,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **extra,
    }


def home_opened(*, user: str = MEMBER, tab: str = "home") -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": DM_CHANNEL, "tab": tab}


def slash_command(command: str, text: str, *, response_url: str, user: str = MEMBER) -> str:
    """A slash command's form body."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": CHANNEL,
            "channel_name": "support",
            "user_id": user,
            "user_name": "member",
            "command": command,
            "text": text,
            "api_app_id": "A123",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def button_click(
    action_id: str,
    value: str,
    *,
    response_url: str,
    ephemeral: bool,
    user: str = MEMBER,
    channel: str = CHANNEL,
    message_ts: str | None = None,
) -> str:
    """A ``block_actions`` form body: ``payload=`` and the JSON."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts or next_ts(),
        "channel_id": channel,
        "is_ephemeral": ephemeral,
    }
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "member", "team_id": TEAM_ID},
        "api_app_id": "A123",
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": "1.2.3",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "channel": {"id": channel, "name": "support"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000000.1",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
