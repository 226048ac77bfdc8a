"""Slack settings, checked before anything starts (read once, by ``bot.settings``).

Every problem becomes ONE line that names the variable (never its value: these are
secrets), and the runner exits 2. Tunable limits for the adapter live here too, so no
number hides in the handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.settings import DEFAULT_HOST, Settings

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
EVENTS_PATH = "/slack/events"  # Events API, slash commands and interactivity share one path

API_TIMEOUT_SECONDS = 15  # one Web API or response_url call, retries not included
RATE_LIMIT_RETRIES = 2  # honour Retry-After this many times before giving up on a call
SERVER_ERROR_RETRIES = 2  # HTTP 500/503 from Slack, with exponential back-off
CONNECTION_RETRIES = 1
SEEN_EVENTS = 10_000  # event ids remembered so that Slack's redeliveries are answered once

_BOT_TOKEN = re.compile(r"^xoxb-[A-Za-z0-9-]+$")
_APP_TOKEN = re.compile(r"^xapp-[A-Za-z0-9-]+$")
_SIGNING_SECRET = re.compile(r"^[0-9a-fA-F]{32,}$")
_DIGITS = re.compile(r"^[0-9]{1,5}$")


class SettingsError(ValueError):
    """A missing or malformed setting; ``str()`` is the one line to print."""


@dataclass(frozen=True)
class SlackSettings:
    """Everything the Slack runtime needs; secrets are kept out of ``repr``."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    socket_mode: bool = False


def load_settings(
    settings: Settings,
    *,
    port: int | None = None,
    socket_mode: bool = False,
) -> SlackSettings:
    """Check the ``SLACK_*``, ``PORT`` and ``HOST`` settings; ``SettingsError`` on a bad one.

    Socket Mode is chosen by ``--socket-mode`` or by ``SLACK_APP_TOKEN`` being set; it needs
    no signing secret (Slack authenticates the websocket), HTTP mode does.
    """
    bot_token = _required(
        settings.slack_bot_token, "SLACK_BOT_TOKEN", "the app's Bot User OAuth Token (xoxb-...)"
    )
    if not _BOT_TOKEN.match(bot_token):
        raise SettingsError(
            "SLACK_BOT_TOKEN is malformed: expected a bot token starting with xoxb-"
        )
    app_token = _optional(settings.slack_app_token)
    socket_mode = socket_mode or app_token is not None
    if socket_mode and app_token is None:
        raise SettingsError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) "
            "with the connections:write scope"
        )
    if app_token is not None and not _APP_TOKEN.match(app_token):
        raise SettingsError(
            "SLACK_APP_TOKEN is malformed: expected an app-level token starting with xapp-"
        )
    signing_secret = _optional(settings.slack_signing_secret)
    if signing_secret is None and not socket_mode:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is not set: give the app's Signing Secret "
            "(Basic Information > App Credentials), or use Socket Mode"
        )
    if signing_secret is not None and not _SIGNING_SECRET.match(signing_secret):
        raise SettingsError(
            "SLACK_SIGNING_SECRET is malformed: expected the app's Signing Secret "
            "(32 hexadecimal characters)"
        )
    return SlackSettings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=_api_url(_optional(settings.slack_api_url)),
        port=_port(_optional(settings.port), port),
        host=settings.host,
        socket_mode=socket_mode,
    )


def _optional(value: SecretStr | str | None) -> str | None:
    """The stripped value, or ``None`` when unset or blank (as in a bare .env line)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return (value or "").strip() or None


def _required(value: SecretStr | None, name: str, what: str) -> str:
    text = _optional(value)
    if text is None:
        raise SettingsError(f"{name} is not set: give {what}")
    return text


def _api_url(value: str | None) -> str:
    """``SLACK_API_URL`` as slack-sdk wants it: an http(s) URL ending in a slash."""
    if value is None:
        return DEFAULT_API_URL
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query:
        raise SettingsError(
            "SLACK_API_URL is malformed: expected an http(s) base URL such as "
            "https://slack.com/api/"
        )
    return value if value.endswith("/") else value + "/"


def _port(value: str | None, port: int | None) -> int:
    """``--port`` wins over ``PORT``; 0 asks the system for any free port."""
    if port is not None:
        if not 0 <= port <= 65535:
            raise SettingsError("--port is out of range: expected a number from 0 to 65535")
        return port
    if value is None:
        return DEFAULT_PORT
    if not _DIGITS.match(value) or not 0 <= int(value) <= 65535:
        raise SettingsError("PORT is malformed: expected a whole number from 0 to 65535")
    return int(value)
