"""Discord wire payloads for the fake: the bot, one server, members, messages, interactions.

Shaped like what Discord sends (API v10), trimmed to what discord.py reads.
"""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = 900_000_000_000_000_001
APPLICATION_ID = BOT_ID
GUILD_ID = 910_000_000_000_000_001
CHANNEL_ID = 920_000_000_000_000_001
NO_EMBED_CHANNEL_ID = 920_000_000_000_000_002
BOT_ROLE_ID = 930_000_000_000_000_001
MEMBER_ID = 940_000_000_000_000_001
TIMESTAMP = "2026-01-01T12:00:00.000000+00:00"

# view_channel, send_messages, embed_links, read_message_history, send_messages_in_threads
BOT_PERMISSIONS = str(1024 | 2048 | 16384 | 65536 | 274877906944)
EMBED_LINKS = 16384
EPHEMERAL = 64
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

_ids = itertools.count(950_000_000_000_000_001)


def next_id() -> int:
    """A fresh snowflake for messages, interactions and DM channels."""
    return next(_ids)


def user(user_id: int, name: str | None = None, *, bot: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(user_id),
        "username": name or f"member{user_id % 10_000}",
        "global_name": None,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        data["bot"] = True
    return data


BOT_USER = user(BOT_ID, "ketamine-bot", bot=True)


def member(user_id: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [],
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
    }
    if user_id is not None:
        data["user"] = user(user_id)
    return data


def text_channel(channel_id: int, name: str, overwrites: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": 0,
        "permission_overwrites": overwrites,
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def guild_create(guild_id: int = GUILD_ID) -> dict[str, Any]:
    """A server with a normal channel and one where @everyone may not embed links."""
    everyone = {
        "id": str(guild_id),
        "name": "@everyone",
        "permissions": BOT_PERMISSIONS,
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    bot_role = dict(
        everyone,
        id=str(BOT_ROLE_ID),
        name="ketamine-bot",
        permissions="0",
        position=1,
        managed=True,
        tags={"bot_id": str(BOT_ID)},
    )
    bot_member = dict(member(), user=BOT_USER, roles=[str(BOT_ROLE_ID)])
    no_embeds = [{"id": str(guild_id), "type": 0, "allow": "0", "deny": str(EMBED_LINKS)}]
    return {
        "id": str(guild_id),
        "name": "Peer support",
        "icon": None,
        "owner_id": str(MEMBER_ID),
        "unavailable": False,
        "large": False,
        "member_count": 3,
        "roles": [everyone, bot_role],
        "emojis": [],
        "stickers": [],
        "features": [],
        "members": [bot_member],
        "channels": [
            text_channel(CHANNEL_ID, "ask-here", []),
            text_channel(NO_EMBED_CHANNEL_ID, "no-embeds", no_embeds),
        ],
        "threads": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "mfa_level": 0,
        "verification_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "premium_tier": 0,
        "system_channel_flags": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "joined_at": TIMESTAMP,
    }


def message(
    content: str,
    *,
    author_id: int = MEMBER_ID,
    channel_id: int = CHANNEL_ID,
    guild: bool = True,
    mentions_bot: bool = True,
    author_is_bot: bool = False,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload; in a server, ``mentions_bot`` puts the bot in ``mentions``."""
    data: dict[str, Any] = {
        "id": str(message_id or next_id()),
        "channel_id": str(channel_id),
        "author": user(author_id, bot=author_is_bot),
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [BOT_USER] if mentions_bot else [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }
    if guild:
        data["guild_id"] = str(GUILD_ID)
        data["member"] = member()
    return data


def mention(question: str, **options: Any) -> dict[str, Any]:
    """A message in the server's channel that mentions the bot, then asks ``question``."""
    return message(f"<@{BOT_ID}> {question}", **options)


def direct_message(text: str, *, author_id: int = MEMBER_ID, channel_id: int) -> dict[str, Any]:
    return message(
        text, author_id=author_id, channel_id=channel_id, guild=False, mentions_bot=False
    )


def _interaction(
    kind: int, data: dict[str, Any], *, user_id: int, guild: bool, channel_id: int
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(next_id()),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "token": f"token-{next_id()}",
        "version": 1,
        "data": data,
        "locale": "en-US",
        "app_permissions": BOT_PERMISSIONS,
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if guild:
        payload.update(
            guild_id=str(GUILD_ID),
            guild_locale="en-US",
            channel_id=str(channel_id),
            channel=text_channel(channel_id, "ask-here", []),
            member=dict(member(user_id), permissions=BOT_PERMISSIONS),
            authorizing_integration_owners={"0": str(GUILD_ID)},
            context=0,
        )
    else:
        payload.update(
            channel_id=str(channel_id),
            channel={"id": str(channel_id), "type": 1, "recipients": [user(user_id)]},
            user=user(user_id),
            authorizing_integration_owners={"0": str(GUILD_ID)},
            context=1,
        )
    return payload


def slash_command(
    name: str,
    options: dict[str, str] | None = None,
    *,
    user_id: int = MEMBER_ID,
    guild: bool = True,
    channel_id: int = CHANNEL_ID,
) -> dict[str, Any]:
    """INTERACTION_CREATE for ``/name option:value``."""
    data: dict[str, Any] = {"id": str(next_id()), "name": name, "type": 1}
    if options:
        data["options"] = [
            {"name": key, "type": 3, "value": value} for key, value in options.items()
        ]
    return _interaction(2, data, user_id=user_id, guild=guild, channel_id=channel_id)


def autocomplete(name: str, option: str, typed: str, *, user_id: int = MEMBER_ID) -> dict[str, Any]:
    """INTERACTION_CREATE while a member types into ``option`` of ``/name``."""
    data = {
        "id": str(next_id()),
        "name": name,
        "type": 1,
        "options": [{"name": option, "type": 3, "value": typed, "focused": True}],
    }
    return _interaction(4, data, user_id=user_id, guild=True, channel_id=CHANNEL_ID)


def button_press(
    sent: dict[str, Any], custom_id: str, *, user_id: int = MEMBER_ID, guild: bool = True
) -> dict[str, Any]:
    """INTERACTION_CREATE for pressing ``custom_id`` on the message the bot ``sent``."""
    data = {"custom_id": custom_id, "component_type": 2}
    channel_id = int(sent["channel_id"])
    payload = _interaction(3, data, user_id=user_id, guild=guild, channel_id=channel_id)
    payload["message"] = sent
    return payload
