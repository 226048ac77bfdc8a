"""The check-in on Discord: a private question with two buttons, and what each answer does.

When the core is unsure whether a message is about the member's own safety, it returns a
``check_in`` reply instead of an answer. On Discord:

- asked in a server channel: the check-in goes to the member's DMs, and the channel sees
  only the neutral ``check_in.public_pointer`` ("I've sent you a private message.");
  with their DMs closed, the channel gets the brief ``crisis_public_pointer`` instead,
  which names the helplines and repeats nothing the member wrote;
- asked in a DM, or through ``/ketamine`` (ephemeral): the check-in is the reply itself.

"Yes, I'd like support" replaces the check-in with the full crisis reply and, for a
question asked in a server channel, alerts the moderators (a link only, within
``service.alerts``). "No, I was asking about something else" gives the ordinary answer
where it would have gone: in the channel, as a reply to the question (with the usual
buttons), or in place of the check-in when it was private to begin with.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot.adapters.discord.delivery import (
    Shown,
    can_embed_in,
    replace,
    reply_in_channel,
    reply_to,
    respond,
    send_privately,
)
from bot.adapters.discord.moderation import ModeratorCommands, member_key
from bot.adapters.discord.render import render_notice, render_plain, render_reply
from bot.adapters.discord.views import Origin, reply_view
from bot.adapters.discord.work import tracked
from bot.core.cooldown import Verdict
from bot.core.reply import SUPPORT, Reply, ReplyKind
from bot.core.responder import Responder
from bot.knowledge.schema import InterfaceTexts


class CheckIns(ModeratorCommands):
    """The check-in half of ``KetamineCog`` (see the module docstring)."""

    async def cooldown_verdict(self, user_id: int) -> Verdict:
        """The cooldown's word on one more public reply (in a thread: it may be a database)."""
        return await asyncio.to_thread(self.service.cooldown.check, member_key(user_id))

    async def send_check_in(
        self, message: discord.Message, shown: Shown, responder: Responder
    ) -> None:
        """Ask privately; a server channel sees only a pointer that repeats nothing.

        ``shown`` is the check-in with its buttons (in a server, they carry where the
        member asked, so "No" can answer there).
        """
        if message.guild is None:
            await reply_to(message, **shown.parts())
            return
        if await send_privately(message.author, embed=shown.embed, view=shown.view):
            pointer = responder.knowledge.safety.check_in.public_pointer
        else:  # DMs closed: the helplines, briefly, and never their words
            pointer = responder.knowledge.replies.interface.crisis_public_pointer
        await reply_to(message, content=render_notice(pointer))

    @tracked
    async def on_check_in_press(
        self,
        interaction: discord.Interaction,
        choice: str,
        entry_id: str | None,
        origin: Origin | None,
    ) -> None:
        """Crisis reply and alert for "Yes"; the ordinary answer, where it belongs, for "No"."""
        responder = self.service.responder
        interface = responder.knowledge.replies.interface
        reply = responder.after_check_in(choice, entry_id)
        if choice == SUPPORT:
            await replace(interaction, embed=render_reply(reply), view=None)
            if origin is not None:
                await self._alert_about(interaction.user.id, origin)
            return
        if origin is None:
            await self._answer_in_place(interaction, reply, interface)
            return
        if await self.cooldown_verdict(interaction.user.id) is not Verdict.ALLOW:
            await respond(interaction, ephemeral=True, content=render_notice(interface.cooldown))
            return
        await replace(interaction, view=None)  # the check-in stays; its buttons go
        view = reply_view(reply, feedback=self.feedback_labels(interface))
        parts: dict[str, Any] = (
            {"embed": render_reply(reply)}
            if can_embed_in(self.bot.get_channel(origin.channel_id))
            else {"content": render_plain(reply)}
        )
        sent = await reply_in_channel(
            self.bot, origin.channel_id, origin.message_id, view=view, **parts
        )
        if not sent:  # the channel is gone or closed to the bot: answer in the DM instead
            await respond(interaction, ephemeral=False, embed=render_reply(reply), view=view)

    async def _answer_in_place(
        self, interaction: discord.Interaction, reply: Reply, interface: InterfaceTexts
    ) -> None:
        """Replace a DM or ephemeral check-in with the answer, as the question would have got."""
        message = interaction.message
        private = message is not None and message.flags.ephemeral
        shareable = private and reply.kind is ReplyKind.ANSWER and interaction.guild_id is not None
        view = reply_view(
            reply,
            share_label=interface.share_button if shareable else None,
            feedback=self.feedback_labels(interface),
        )
        await replace(interaction, embed=render_reply(reply), view=view)

    async def _alert_about(self, user_id: int, origin: Origin) -> None:
        """Alert the moderators about the message behind a check-in ("Yes")."""
        channel = self.bot.get_channel(origin.channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(origin.channel_id)
            except discord.HTTPException:
                return
        guild = getattr(channel, "guild", None)
        if guild is not None:
            await self.alert_moderators(user_id, guild.id, origin.channel_id, origin.message_id)
