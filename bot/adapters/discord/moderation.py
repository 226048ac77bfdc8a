"""Moderators on Discord: ``/ketamine-reload``, ``/ketamine-unanswered``, votes and alerts.

``ModeratorCommands`` is mixed into ``KetamineCog``, so a host adds one cog and gets all of
it. A moderator is a member with Manage Server, or one with a role in ``MOD_ROLE_IDS``. The
commands are registered with ``default_permissions(manage_guild=True)``, so Discord shows
them to Manage Server members only until a server admin also allows the moderators' role
(Server Settings > Integrations > the bot); the check here is made again on every use, so a
command that someone else can see is still refused politely, in private.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import limits
from bot.adapters.discord.delivery import post_to_channel, respond
from bot.adapters.discord.render import escape, fit_lines, render_notice
from bot.adapters.discord.work import WorkTracker, tracked
from bot.adapters.moderators import (
    UNANSWERED_DAYS,
    UNANSWERED_LIMIT,
    UNANSWERED_MAX_DAYS,
    Moderation,
    fill,
    problem_lines,
    reload_summary,
    unanswered_line,
    unanswered_title,
)
from bot.core.reload import KnowledgeReloader, ReloadResult
from bot.core.service import BotService
from bot.knowledge.schema import InterfaceTexts

RELOAD_COMMAND = "ketamine-reload"
RELOAD_DESCRIPTION = "Moderators: reload the knowledge base now"
UNANSWERED_COMMAND = "ketamine-unanswered"
UNANSWERED_DESCRIPTION = "Moderators: the questions the bot could not answer recently"
DAYS_DESCRIPTION = f"How many days back to look (default {UNANSWERED_DAYS})"

_log = logging.getLogger(__name__)


def member_key(user_id: int) -> str:
    """A member as the core knows them (votes, cooldowns, alert limits): one namespace."""
    return f"discord:{user_id}"


def code_block(lines: list[str], room: int) -> str:
    """``lines`` in a code block (shown as typed, no markdown) within ``room`` characters."""
    fence = "```"
    body = fit_lines([line.replace(fence, "'''") for line in lines], room - 2 * len(fence) - 2)
    return f"{fence}\n{body}\n{fence}"


def reload_message(result: ReloadResult, texts: InterfaceTexts) -> str:
    """What a moderator reads after a reload: one line, then the problems if any."""
    summary = escape(reload_summary(result, texts))
    if not result.problems:
        return render_notice(summary)
    room = limits.MESSAGE_CONTENT - len(summary) - 1
    return f"{summary}\n{code_block(problem_lines(result), room)}"


class ModeratorCommands:
    """The moderator half of ``KetamineCog`` (see the module docstring)."""

    bot: commands.Bot
    service: BotService
    moderation: Moderation
    reloader: KnowledgeReloader
    work: WorkTracker

    def _texts(self) -> InterfaceTexts:
        return self.service.responder.knowledge.replies.interface

    def is_moderator(self, interaction: discord.Interaction) -> bool:
        """Manage Server in this server, or a moderator role; never in a DM."""
        if interaction.guild_id is None:
            return False
        if interaction.permissions.manage_guild:
            return True
        wanted = self.moderation.settings.discord_role_ids
        roles = getattr(interaction.user, "roles", ())
        return any(role.id in wanted for role in roles)

    async def _refuse(self, interaction: discord.Interaction) -> None:
        await respond(
            interaction, ephemeral=True, content=render_notice(self._texts().moderators_only)
        )

    # -- commands -------------------------------------------------------------------------

    @app_commands.command(name=RELOAD_COMMAND, description=RELOAD_DESCRIPTION)
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reload_knowledge(self, interaction: discord.Interaction) -> None:
        """``/ketamine-reload``: reload now; entry count and version, or every problem."""
        await self._reload(interaction)

    @tracked
    async def _reload(self, interaction: discord.Interaction) -> None:
        if not self.is_moderator(interaction):
            await self._refuse(interaction)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.reloader.reload()
        texts = result.knowledge.replies.interface  # the new texts, when the reload took
        await respond(interaction, ephemeral=True, content=reload_message(result, texts))

    @app_commands.command(name=UNANSWERED_COMMAND, description=UNANSWERED_DESCRIPTION)
    @app_commands.describe(days=DAYS_DESCRIPTION)
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def list_unanswered(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, UNANSWERED_MAX_DAYS] = UNANSWERED_DAYS,
    ) -> None:
        """``/ketamine-unanswered [days]``: the most asked questions without an answer."""
        await self._list_unanswered(interaction, days)

    @tracked
    async def _list_unanswered(self, interaction: discord.Interaction, days: int) -> None:
        if not self.is_moderator(interaction):
            await self._refuse(interaction)
            return
        texts = self._texts()
        store = self.moderation.store
        if store is None:
            await respond(interaction, ephemeral=True, content=render_notice(texts.unanswered_off))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        groups = await asyncio.to_thread(store.unanswered, days=days, limit=UNANSWERED_LIMIT)
        title = escape(unanswered_title(texts, days, groups))
        lines = [
            f"{number}. {escape(unanswered_line(texts, group))}"
            for number, group in enumerate(groups, start=1)
        ]
        content = fit_lines([f"**{title}**", *lines], limits.MESSAGE_CONTENT)
        await respond(interaction, ephemeral=True, content=content)

    # -- feedback -------------------------------------------------------------------------

    def feedback_labels(self, texts: InterfaceTexts) -> tuple[str, str] | None:
        """The vote buttons' labels, or ``None`` when votes are not kept (no store)."""
        if self.moderation.store is None:
            return None
        return texts.helpful_button, texts.not_helpful_button

    @tracked
    async def on_vote_press(
        self, interaction: discord.Interaction, entry_id: str, helpful: bool
    ) -> None:
        """Keep the member's vote on this answer message (a new press replaces it); thank them."""
        store = self.moderation.store
        message = interaction.message
        if store is not None and message is not None:
            try:
                await asyncio.to_thread(
                    store.vote,
                    member=member_key(interaction.user.id),
                    message_ref=str(message.id),
                    entry_id=entry_id,
                    helpful=helpful,
                )
            except Exception:  # a lost vote must not leave the press unanswered
                _log.exception("could not keep a vote")
        await respond(interaction, ephemeral=True, content=render_notice(self._texts().vote_thanks))

    # -- alerts to the moderators' channel ---------------------------------------------------

    async def alert_crisis(self, message: discord.Message) -> None:
        """Point moderators to a member's message that got the crisis reply: a link, no text.

        Only for messages in a server channel (which its members can read anyway); what a
        member writes to the bot in a DM stays between them and the bot.
        """
        if message.guild is None:
            return
        await self.alert_moderators(
            message.author.id, message.guild.id, message.channel.id, message.id
        )

    async def alert_moderators(
        self, user_id: int, guild_id: int, channel_id: int, message_id: int
    ) -> bool:
        """Post the crisis alert (a link to the message, never its text), if the limits allow.

        ``service.alerts`` allows one alert per member and a few per channel in a window
        (shared between replicas when it is backed by the database, hence the thread).
        """
        alert_channel = self.moderation.settings.discord_alert_channel
        if alert_channel is None:
            return False
        allowed = await asyncio.to_thread(
            self.service.alerts.allow, member_key(user_id), f"discord:{channel_id}"
        )
        if not allowed:
            return False
        link = f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"
        alert = fill(escape(self._texts().crisis_alert), link=link)
        return await post_to_channel(self.bot, alert_channel, render_notice(alert))

    async def tell_moderators_about_reload(self, result: ReloadResult) -> None:
        """A reload listener: post what an edit on disk did (commands answer their caller)."""
        channel_id = self.moderation.settings.discord_alert_channel
        if channel_id is None or result.trigger != "watcher":
            return
        texts = result.knowledge.replies.interface
        await post_to_channel(self.bot, channel_id, reload_message(result, texts))
