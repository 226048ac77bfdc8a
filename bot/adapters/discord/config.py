"""Settings of the standalone Discord bot, read from the environment and checked up front.

Each problem is reported as one line naming the variable, and no value is ever echoed:
a token pasted into the wrong variable must not end up in a log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

TOKEN_VARIABLE = "DISCORD_TOKEN"
GUILD_VARIABLE = "DISCORD_GUILD_ID"
SHARDED_VARIABLE = "DISCORD_SHARDED"
SHARD_COUNT_VARIABLE = "SHARD_COUNT"
SHARD_IDS_VARIABLE = "SHARD_IDS"
MAX_SHARDS = 100_000

# Bot tokens are three base64url parts joined by dots; anything else (a client secret,
# an application id, a token with "Bot " in front) would only fail later, at login.
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"", "0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class DiscordSettings:
    """What ``ketamine-bot run discord`` needs; the token never appears in ``repr``."""

    token: str = field(repr=False)
    guild_id: int | None = None
    sharded: bool = False
    shard_count: int | None = None  # SHARD_COUNT: shards of the whole bot, in every process
    shard_ids: tuple[int, ...] | None = None  # SHARD_IDS: this process's (None: all of them)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> DiscordSettings:
        """Read and check the token, the guild, and how this process shards (see README).

        Checked in the order ``config check`` lists them, token first: the first problem
        is the one reported, and a malformed ``SHARD_COUNT`` is named by the shared
        settings too, while a bad token is named only here.
        """
        token = _token(environ.get(TOKEN_VARIABLE, ""))
        guild_id = _guild_id(environ.get(GUILD_VARIABLE, ""))
        sharded = _flag(SHARDED_VARIABLE, environ.get(SHARDED_VARIABLE, ""))
        count = _shard_count(environ.get(SHARD_COUNT_VARIABLE, ""))
        return cls(
            token=token,
            guild_id=guild_id,
            sharded=sharded,
            shard_count=count,
            shard_ids=_shard_ids(environ.get(SHARD_IDS_VARIABLE, ""), count),
        )


def _token(raw: str) -> str:
    token = raw.strip()
    if not token:
        raise SettingsError(
            f"{TOKEN_VARIABLE} is not set: put the bot token from the Discord developer "
            "portal (your application > Bot > Reset Token) in it"
        )
    if token.lower().startswith("bot "):
        raise SettingsError(f"{TOKEN_VARIABLE} starts with 'Bot ': give the token alone")
    if not _TOKEN.fullmatch(token):
        raise SettingsError(
            f"{TOKEN_VARIABLE} does not look like a bot token (three parts joined by dots); "
            "copy it again from the Bot page of the developer portal"
        )
    return token


def _guild_id(raw: str) -> int | None:
    value = raw.strip()
    if not value:
        return None
    if not _SNOWFLAKE.fullmatch(value) or int(value) == 0:
        raise SettingsError(
            f"{GUILD_VARIABLE} must be a server ID, digits only "
            "(right-click the server, Copy Server ID), or unset for global commands"
        )
    return int(value)


def _flag(variable: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise SettingsError(f"{variable} must be 1 or 0 (true or false)")


def _shard_count(raw: str) -> int | None:
    value = raw.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_SHARDS:
        raise SettingsError(
            f"{SHARD_COUNT_VARIABLE} must be the bot's total number of shards, a whole number "
            f"from 1 to {MAX_SHARDS} (Discord's recommended count: GET /gateway/bot)"
        )
    return int(value)


def _shard_ids(raw: str, count: int | None) -> tuple[int, ...] | None:
    value = raw.strip()
    if not value:
        return None
    if count is None:
        raise SettingsError(
            f"{SHARD_IDS_VARIABLE} needs {SHARD_COUNT_VARIABLE} (the total number of shards)"
        )
    parts = [part.strip() for part in value.split(",")]
    if not all(part.isdigit() and int(part) < count for part in parts):
        raise SettingsError(
            f"{SHARD_IDS_VARIABLE} must list shard numbers from 0 to {count - 1}, "
            "comma-separated (e.g. 0,1)"
        )
    ids = tuple(int(part) for part in parts)
    if len(set(ids)) != len(ids):
        raise SettingsError(f"{SHARD_IDS_VARIABLE} lists a shard twice")
    return ids
