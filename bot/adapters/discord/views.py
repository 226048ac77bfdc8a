"""Buttons under replies: suggestions, "Share in channel", feedback, and the check-in's two.

Each button carries the entry id in its ``custom_id`` (``ketamine:ask:<id>``,
``ketamine:share:<id>``, ``ketamine:vote:y:<id>`` / ``ketamine:vote:n:<id>``) and is a
``discord.ui.DynamicItem``: once the classes are
registered with ``bot.add_dynamic_items``, a press is understood from the id alone, so
buttons on messages sent before a restart keep working and no per-message view is
kept in memory.

A check-in's buttons are ``ketamine:checkin:<choice>:<entry id or ->[:<channel>:<message>]``:
the core's choice id, the entry the member would otherwise have been answered with, and,
when the question was asked in a server channel, where it was asked (so "No" can answer
there). Never a word of what the member wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import discord

from bot.adapters.discord import limits
from bot.adapters.discord.render import shorten
from bot.core.reply import OTHER, SUPPORT, Reply, ReplyKind

if TYPE_CHECKING:  # Python 3.11's typing.Self, for the annotations only
    from typing_extensions import Self

COG_NAME = "Ketamine"
ASK_PREFIX = "ketamine:ask:"
SHARE_PREFIX = "ketamine:share:"
VOTE_PREFIX = "ketamine:vote:"
CHECK_IN_PREFIX = "ketamine:checkin:"
HELPFUL, NOT_HELPFUL = "y", "n"
NO_ENTRY = "-"  # a check-in with no ordinary answer behind it ("No" then gets help)
_ENTRY_ID = r"(?P<entry_id>[a-z0-9]+(?:-[a-z0-9]+)*)"
_SNOWFLAKE = r"[0-9]{1,20}"


@dataclass(frozen=True)
class Origin:
    """Where a member asked in a server: the channel and their message, by id only."""

    channel_id: int
    message_id: int


class PressHandler(Protocol):
    """What a button press is handed to (``KetamineCog`` implements it)."""

    async def on_suggestion_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Answer the entry a member picked."""

    async def on_share_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Post a privately read answer in the channel."""

    async def on_vote_press(
        self, interaction: discord.Interaction, entry_id: str, helpful: bool
    ) -> None:
        """Count a member's vote on the answer the button is under."""

    async def on_check_in_press(
        self,
        interaction: discord.Interaction,
        choice: str,
        entry_id: str | None,
        origin: Origin | None,
    ) -> None:
        """Act on the member's answer to a check-in."""


def find_handler(interaction: discord.Interaction) -> PressHandler | None:
    """Find the cog in the bot that received the press (none once it is unloaded)."""
    get_cog = getattr(interaction.client, "get_cog", None)
    return get_cog(COG_NAME) if get_cog is not None else None


class _PressButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """A button whose ``custom_id`` holds all a press needs; presses go to the cog.

    The base template matches nothing; each subclass gives its own, builds itself back
    from a match (``from_match``) and says which handler method a press calls
    (``hand_to``). Labels are cut to Discord's limit here, once for every kind.
    """

    def __init__(self, custom_id: str, label: str, style: discord.ButtonStyle) -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, limits.BUTTON_LABEL), style=style, custom_id=custom_id
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a press (also one on a message sent before a restart)."""
        return cls.from_match(match, getattr(item, "label", None))

    @classmethod
    def from_match(cls, match: re.Match[str], label: str | None) -> Self:
        """The button that ``match`` (its template on a ``custom_id``) describes."""
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the cog (none once it is unloaded)."""
        handler = find_handler(interaction)
        if handler is not None:
            await self.hand_to(handler, interaction)

    async def hand_to(self, handler: PressHandler, interaction: discord.Interaction) -> None:
        """Call the handler method for this kind of button."""
        raise NotImplementedError


class _EntryButton(_PressButton, template=r"(?!)"):
    """A button that names an entry in its ``custom_id`` (``prefix`` + entry id)."""

    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary
    prefix: ClassVar[str] = ""

    def __init__(self, entry_id: str, label: str) -> None:
        super().__init__(self.prefix + entry_id, label, self.style)
        self.entry_id = entry_id

    @classmethod
    def from_match(cls, match: re.Match[str], label: str | None) -> Self:
        """The entry's button, labelled with its id when the press carried no label."""
        return cls(match["entry_id"], label or match["entry_id"])


class SuggestionButton(_EntryButton, template=re.escape(ASK_PREFIX) + _ENTRY_ID):
    """A suggested question; pressing it answers that entry."""

    prefix = ASK_PREFIX

    async def hand_to(self, handler: PressHandler, interaction: discord.Interaction) -> None:
        """Answer the picked entry."""
        await handler.on_suggestion_press(interaction, self.entry_id)


class ShareButton(_EntryButton, template=re.escape(SHARE_PREFIX) + _ENTRY_ID):
    """Under a private answer: post the same answer in the channel, naming who shared it."""

    style = discord.ButtonStyle.primary
    prefix = SHARE_PREFIX

    async def hand_to(self, handler: PressHandler, interaction: discord.Interaction) -> None:
        """Share the answer in the channel."""
        await handler.on_share_press(interaction, self.entry_id)


class VoteButton(
    _PressButton,
    template=re.escape(VOTE_PREFIX) + f"(?P<vote>[{HELPFUL}{NOT_HELPFUL}]):" + _ENTRY_ID,
):
    """A "Helpful" or "Not helpful" button under an answer; a second press changes the vote."""

    def __init__(self, entry_id: str, helpful: bool, label: str) -> None:
        vote = HELPFUL if helpful else NOT_HELPFUL
        super().__init__(f"{VOTE_PREFIX}{vote}:{entry_id}", label, discord.ButtonStyle.secondary)
        self.entry_id = entry_id
        self.helpful = helpful

    @classmethod
    def from_match(cls, match: re.Match[str], label: str | None) -> Self:
        """The vote button, labelled with its vote when the press carried no label."""
        return cls(match["entry_id"], match["vote"] == HELPFUL, label or match["vote"])

    async def hand_to(self, handler: PressHandler, interaction: discord.Interaction) -> None:
        """Count the vote."""
        await handler.on_vote_press(interaction, self.entry_id, self.helpful)


class CheckInButton(
    _PressButton,
    template=re.escape(CHECK_IN_PREFIX)
    + f"(?P<choice>{SUPPORT}|{OTHER}):(?P<entry>{re.escape(NO_ENTRY)}|{_ENTRY_ID})"
    + f"(?::(?P<channel_id>{_SNOWFLAKE}):(?P<message_id>{_SNOWFLAKE}))?",
):
    """One answer to a check-in: "Yes, I'd like support" or "No, I was asking about ..."."""

    def __init__(
        self, choice: str, label: str, entry_id: str | None, origin: Origin | None
    ) -> None:
        style = discord.ButtonStyle.primary if choice == SUPPORT else discord.ButtonStyle.secondary
        super().__init__(check_in_custom_id(choice, entry_id, origin), label, style)
        self.choice = choice
        self.entry_id = entry_id
        self.origin = origin

    @classmethod
    def from_match(cls, match: re.Match[str], label: str | None) -> Self:
        """The choice's button, with the entry and the place it carries."""
        entry = match["entry"]
        origin = None
        if match["channel_id"] is not None:
            origin = Origin(int(match["channel_id"]), int(match["message_id"]))
        return cls(
            match["choice"], label or match["choice"], None if entry == NO_ENTRY else entry, origin
        )

    async def hand_to(self, handler: PressHandler, interaction: discord.Interaction) -> None:
        """Act on the member's answer."""
        await handler.on_check_in_press(interaction, self.choice, self.entry_id, self.origin)


def check_in_custom_id(choice: str, entry_id: str | None, origin: Origin | None) -> str:
    """The check-in button's id; without the origin if it would not fit Discord's 100.

    Dropping the origin only moves the "No" answer into the private message; dropping
    the entry (for an id too long even then) turns it into the help reply.
    """
    head = f"{CHECK_IN_PREFIX}{choice}:{entry_id or NO_ENTRY}"
    if origin is not None:
        located = f"{head}:{origin.channel_id}:{origin.message_id}"
        if len(located) <= limits.CUSTOM_ID:
            return located
    if len(head) <= limits.CUSTOM_ID:
        return head
    return f"{CHECK_IN_PREFIX}{choice}:{NO_ENTRY}"


def check_in_view(reply: Reply, origin: Origin | None = None) -> discord.ui.View:
    """The check-in's buttons, one per choice the core offers, in its order."""
    view = discord.ui.View(timeout=None)
    for choice in reply.choices:
        view.add_item(CheckInButton(choice.id, choice.label, reply.entry_id, origin))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    SuggestionButton,
    ShareButton,
    VoteButton,
    CheckInButton,
)


def _fits(prefix: str, entry_id: str) -> bool:
    return len(prefix + entry_id) <= limits.CUSTOM_ID


def reply_view(
    reply: Reply,
    *,
    share_label: str | None = None,
    feedback: tuple[str, str] | None = None,
) -> discord.ui.View | None:
    """Build the buttons for ``reply``: one per suggestion, Share given ``share_label``.

    ``feedback`` (the "Helpful" and "Not helpful" labels) adds the two vote buttons to an
    answer. ``None`` when there is nothing to press, so plain replies carry no components.
    """
    view = discord.ui.View(timeout=None)
    for suggestion in reply.suggestions[: limits.BUTTONS_PER_MESSAGE - 3]:
        if _fits(ASK_PREFIX, suggestion.entry_id):
            view.add_item(SuggestionButton(suggestion.entry_id, suggestion.question))
    answer = reply.entry_id if reply.kind is ReplyKind.ANSWER else None
    if share_label and reply.entry_id and _fits(SHARE_PREFIX, reply.entry_id):
        view.add_item(ShareButton(reply.entry_id, share_label))
    if feedback and answer and _fits(VOTE_PREFIX + "y:", answer):
        view.add_item(VoteButton(answer, True, feedback[0]))
        view.add_item(VoteButton(answer, False, feedback[1]))
    return view if view.children else None
