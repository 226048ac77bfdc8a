"""Buttons under replies: suggestions to pick, and "Share in channel" for private answers.

Each button carries the entry id in its ``custom_id`` (``ketamine:ask:<id>``,
``ketamine:share:<id>``) and is a ``discord.ui.DynamicItem``: once the classes are
registered with ``bot.add_dynamic_items``, a press is understood from the id alone, so
buttons on messages sent before a restart keep working and no per-message view is
kept in memory.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.adapters.discord import limits
from bot.adapters.discord.render import shorten
from bot.core.reply import Reply

COG_NAME = "Ketamine"
ASK_PREFIX = "ketamine:ask:"
SHARE_PREFIX = "ketamine:share:"
_ENTRY_ID = r"(?P<entry_id>[a-z0-9]+(?:-[a-z0-9]+)*)"


class PressHandler(Protocol):
    """What a button press is handed to (``KetamineCog`` implements it)."""

    async def on_suggestion_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Answer the entry a member picked."""

    async def on_share_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Post a privately read answer in the channel."""


def find_handler(interaction: discord.Interaction) -> PressHandler | None:
    """Find the cog in the bot that received the press (none once it is unloaded)."""
    get_cog = getattr(interaction.client, "get_cog", None)
    return get_cog(COG_NAME) if get_cog is not None else None


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.escape(ASK_PREFIX) + _ENTRY_ID
):
    """A suggested question; pressing it answers that entry."""

    def __init__(self, entry_id: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, limits.BUTTON_LABEL),
                style=discord.ButtonStyle.secondary,
                custom_id=ASK_PREFIX + entry_id,
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SuggestionButton:
        """Rebuild the button from a press (also one on a message sent before a restart)."""
        return cls(match["entry_id"], getattr(item, "label", None) or match["entry_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the cog."""
        handler = find_handler(interaction)
        if handler is not None:
            await handler.on_suggestion_press(interaction, self.entry_id)


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.escape(SHARE_PREFIX) + _ENTRY_ID
):
    """Under a private answer: post the same answer in the channel, naming who shared it."""

    def __init__(self, entry_id: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, limits.BUTTON_LABEL),
                style=discord.ButtonStyle.primary,
                custom_id=SHARE_PREFIX + entry_id,
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ShareButton:
        """Rebuild the button from a press."""
        return cls(match["entry_id"], getattr(item, "label", None) or match["entry_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the cog."""
        handler = find_handler(interaction)
        if handler is not None:
            await handler.on_share_press(interaction, self.entry_id)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (SuggestionButton, ShareButton)


def _fits(prefix: str, entry_id: str) -> bool:
    return len(prefix + entry_id) <= limits.CUSTOM_ID


def reply_view(reply: Reply, *, share_label: str | None = None) -> discord.ui.View | None:
    """Build the buttons for ``reply``: one per suggestion, and Share given ``share_label``.

    ``None`` when there is nothing to press, so plain replies carry no components.
    """
    view = discord.ui.View(timeout=None)
    for suggestion in reply.suggestions[: limits.BUTTONS_PER_MESSAGE - 1]:
        if _fits(ASK_PREFIX, suggestion.entry_id):
            view.add_item(SuggestionButton(suggestion.entry_id, suggestion.question))
    if share_label and reply.entry_id and _fits(SHARE_PREFIX, reply.entry_id):
        view.add_item(ShareButton(reply.entry_id, share_label))
    return view if view.children else None
