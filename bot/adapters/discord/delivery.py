"""Every way the adapter sends something, each with pings switched off.

Nothing here decides *what* to say. A failed send (no permission in a channel, DMs
closed, an interaction that expired) is logged and reported as ``False`` rather than
raised, so one bad channel never stops the bot answering everywhere else. Logs name
ids and status codes only, never what a member wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord

NO_MENTIONS = discord.AllowedMentions.none()

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """What members see of one reply: an embed or plain text, and its buttons.

    Built in a worker thread, with the reply (rendering costs CPU); the event loop only
    sends it (``reply_to(message, **shown.parts())``).
    """

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None

    def parts(self) -> dict[str, Any]:
        """The keyword arguments of ``reply_to`` and ``respond``."""
        return {"content": self.content, "embed": self.embed, "view": self.view}


def _extras(embed: discord.Embed | None, view: discord.ui.View | None) -> dict[str, Any]:
    """Only the parts given, so a plain notice carries no empty ``components``."""
    extras: dict[str, Any] = {}
    if embed is not None:
        extras["embed"] = embed
    if view is not None:
        extras["view"] = view
    return extras


def can_embed(message: discord.Message) -> bool:
    """Whether the bot may show embeds where ``message`` was posted (Embed Links)."""
    return can_embed_in(message.channel)


def can_embed_in(channel: object) -> bool:
    """Whether the bot may show embeds in ``channel`` (a DM, or one it cannot see: try)."""
    if not isinstance(channel, (discord.abc.GuildChannel, discord.Thread)):
        return True  # a DM or an uncached channel: try, and let Discord say no
    me = channel.guild.me
    return me is None or channel.permissions_for(me).embed_links


async def reply_to(
    message: discord.Message,
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> bool:
    """Reply to ``message`` in its channel without pinging anyone, its author included."""
    try:
        await message.channel.send(
            content=content,
            reference=message.to_reference(fail_if_not_exists=False),
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
            **_extras(embed, view),
        )
    except discord.HTTPException as error:
        _log.warning(
            "could not reply in channel %s: HTTP %s (code %s)",
            message.channel.id,
            error.status,
            error.code,
        )
        return False
    return True


async def reply_in_channel(
    client: discord.Client,
    channel_id: int,
    message_id: int,
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> bool:
    """Reply to a message known only by its ids (asked before a check-in), pinging no one."""
    reference = discord.MessageReference(
        message_id=message_id, channel_id=channel_id, fail_if_not_exists=False
    )
    try:
        await client.get_partial_messageable(channel_id).send(
            content=content,
            reference=reference,
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
            **_extras(embed, view),
        )
    except discord.HTTPException as error:
        _log.warning(
            "could not reply in channel %s: HTTP %s (code %s)", channel_id, error.status, error.code
        )
        return False
    return True


async def send_privately(
    user: discord.abc.User,
    *,
    embed: discord.Embed | None,
    view: discord.ui.View | None = None,
) -> bool:
    """Send ``embed`` to ``user`` as a DM; ``False`` when their DMs are closed to the bot."""
    try:
        await user.send(allowed_mentions=NO_MENTIONS, **_extras(embed, view))
    except discord.HTTPException as error:
        _log.info("could not DM a member: HTTP %s (code %s)", error.status, error.code)
        return False
    return True


async def respond(
    interaction: discord.Interaction,
    *,
    ephemeral: bool,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> bool:
    """Answer an interaction (a follow-up if it was already acknowledged)."""
    extras = _extras(embed, view)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                content=content or discord.utils.MISSING,
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
                **extras,
            )
        else:
            await interaction.response.send_message(
                content=content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **extras
            )
    except discord.HTTPException as error:
        _log.warning(
            "could not answer interaction %s: HTTP %s (code %s)",
            interaction.id,
            error.status,
            error.code,
        )
        return False
    return True


async def replace(
    interaction: discord.Interaction,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> bool:
    """Answer a press by editing the message it was on (its embed, and its buttons).

    ``view=None`` removes the buttons, so a check-in's choice is made once.
    """
    extras: dict[str, Any] = {"view": view}
    if embed is not None:
        extras["embed"] = embed
    try:
        await interaction.response.edit_message(allowed_mentions=NO_MENTIONS, **extras)
    except discord.HTTPException as error:
        _log.warning(
            "could not update the message of interaction %s: HTTP %s (code %s)",
            interaction.id,
            error.status,
            error.code,
        )
        return False
    return True


async def post_to_channel(client: discord.Client, channel_id: int, content: str) -> bool:
    """Post ``content`` in a channel known only by id (the moderators' alert channel)."""
    try:
        await client.get_partial_messageable(channel_id).send(
            content=content, allowed_mentions=NO_MENTIONS
        )
    except discord.HTTPException as error:
        _log.warning(
            "could not post in channel %s: HTTP %s (code %s)", channel_id, error.status, error.code
        )
        return False
    return True
