"""``KetamineCog``: mentions, DMs, ``/ketamine``, ``/ketamine-sources`` and button presses.

Moderator commands, feedback votes and crisis alerts come from ``ModeratorCommands``
(``moderation.py``), the check-in from ``CheckIns`` (``checkin.py``), mixed in here so
that a host adds one cog.

Thin by design: what to say always comes from the core's ``Outcome``; the cog only
decides *where* it goes (a reply, a DM, an ephemeral message), renders it and sends it.
The core and the rendering of its reply (``show_in_channel``, ``show_as_response``) run
together in a worker thread (``WorkTracker.think``): the event loop only receives,
acknowledges and sends.

Where replies go:
- a mention in a channel is answered there, as a reply, because the member asked there;
  slash commands and presses under private replies are answered ephemerally;
- a crisis reply never appears in a channel: it goes to the member's DMs (or
  ephemerally), and the channel sees only a short pointer that repeats nothing they wrote;
  a check-in goes the same private way (see ``checkin.py``);
- the core applies the cooldown: a member inside it is told once (``WARN``), privately
  where the platform allows, then nothing (``SILENT``); crisis and check-in replies are
  never held back.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import limits
from bot.adapters.discord.checkin import CheckIns
from bot.adapters.discord.delivery import Shown, can_embed, reply_to, respond, send_privately
from bot.adapters.discord.moderation import member_key
from bot.adapters.discord.render import render_notice, render_plain, render_reply, shorten
from bot.adapters.discord.views import (
    COG_NAME,
    DYNAMIC_ITEMS,
    Origin,
    check_in_view,
    reply_view,
)
from bot.adapters.discord.work import WorkTracker, tracked
from bot.adapters.moderators import Moderation, ModeratorSettings
from bot.adapters.rendered import Renders
from bot.core.cooldown import Verdict
from bot.core.reload import KnowledgeReloader
from bot.core.reply import Reply, ReplyKind
from bot.core.responder import Responder
from bot.core.service import BotService, Outcome

# Registered with Discord when commands are synced, so they live with the command
# definitions rather than in the moderators' replies.yaml.
ASK_COMMAND = "ketamine"
ASK_DESCRIPTION = "Ask a question about the article on ketamine for PTSD"
QUESTION_DESCRIPTION = "Your question, in your own words"
SOURCES_COMMAND = "ketamine-sources"
SOURCES_DESCRIPTION = "List every source the answers come from, with links"

ANSWERED_MESSAGE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})

__all__ = ["KetamineCog", "member_key"]


def _in_guild(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None


class KetamineCog(CheckIns, commands.Cog, name=COG_NAME):
    """Answers questions about the ketamine-for-PTSD article in any ``commands.Bot``.

    ``service`` is the running ``BotService``; ``None`` loads the default knowledge
    base (``KNOWLEDGE_DIR`` or the shipped ``knowledge/``). ``moderation`` holds the
    moderator settings, the store for votes and the shared reloader; ``None`` reads the
    ``MOD_*`` settings from the environment, with no store and a reloader of its own.
    ``work`` tracks the cog's work in flight (the runner shares it to drain at shutdown).
    """

    def __init__(
        self,
        bot: commands.Bot,
        service: BotService | None = None,
        *,
        moderation: Moderation | None = None,
        work: WorkTracker | None = None,
    ) -> None:
        self.bot = bot
        self.service = service if service is not None else BotService.from_directory()
        self.moderation = moderation or Moderation(ModeratorSettings.from_environment(os.environ))
        self.reloader = self.moderation.reloader or KnowledgeReloader(self.service)
        self.work = work or WorkTracker(self.service.pool)
        self._renders: Renders[Shown] = Renders()

    async def cog_load(self) -> None:
        """Make buttons on earlier messages (even from before a restart) answer again."""
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.reloader.listeners.append(self.tell_moderators_about_reload)

    async def cog_unload(self) -> None:
        """Stop handling button presses and reload notices."""
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        if self.tell_moderators_about_reload in self.reloader.listeners:
            self.reloader.listeners.remove(self.tell_moderators_about_reload)

    async def ask_core(
        self, text: str, user_id: int, responder: Responder, show: Callable[[Reply], Shown]
    ) -> tuple[Outcome, Shown | None]:
        """The core's outcome and ``show`` of its reply, worked out in a worker thread.

        The encoder and matching cost milliseconds, rendering tens of microseconds: all of
        it stays off the event loop, which only receives and sends.
        """
        return await self.work.think(self._ask_and_show, text, user_id, responder, show)

    def _ask_and_show(
        self, text: str, user_id: int, responder: Responder, show: Callable[[Reply], Shown]
    ) -> tuple[Outcome, Shown | None]:
        outcome = self.service.ask(
            text, platform="discord", member=member_key(user_id), responder=responder
        )
        return outcome, None if outcome.reply is None else show(outcome.reply)

    # -- messages: mentions and DMs -----------------------------------------------------

    @commands.Cog.listener("on_message")
    async def answer_message(self, message: discord.Message) -> None:
        """Reply to a message that mentions the bot, or to any DM; any other costs O(1)."""
        if self._is_addressed(message):
            await self._answer_message(message)

    @tracked
    async def _answer_message(self, message: discord.Message) -> None:
        if await self._is_host_command(message):
            return
        responder = self.service.responder  # once: a reload swaps it whole
        interface = responder.knowledge.replies.interface
        show = functools.partial(
            self._show_in_channel,
            embeddable=can_embed(message),  # the permission cache is the loop's to read
            feedback=self.feedback_labels(interface),
            origin=None if message.guild is None else Origin(message.channel.id, message.id),
        )
        outcome, shown = await self.ask_core(message.content, message.author.id, responder, show)
        reply = outcome.reply
        if reply is None or shown is None:  # inside the cooldown: say so once, then nothing
            if outcome.cooldown is Verdict.WARN:
                await reply_to(message, content=render_notice(interface.cooldown))
            return
        if reply.kind is ReplyKind.CHECK_IN:
            await self.send_check_in(message, shown, responder)
            return
        if reply.kind is ReplyKind.CRISIS:
            if message.guild is None:
                await reply_to(message, **shown.parts())
            elif await send_privately(message.author, embed=shown.embed):
                await reply_to(message, content=render_notice(interface.crisis_sent_privately))
            else:  # DMs closed: a brief public pointer, never their words
                await reply_to(message, content=render_notice(interface.crisis_public_pointer))
            await self.alert_crisis(message)
            return
        await reply_to(message, **shown.parts())

    def _show_in_channel(
        self,
        reply: Reply,
        *,
        embeddable: bool,
        feedback: tuple[str, str] | None,
        origin: Origin | None,
    ) -> Shown:
        """``show_in_channel``, made once for replies that repeat (all but check-ins).

        A check-in's buttons carry where the member asked, so each is made anew. The embed
        and buttons of any other reply are only read when sent: every message shares them.
        """
        if reply.kind is ReplyKind.CHECK_IN:
            return show_in_channel(reply, embeddable=embeddable, feedback=feedback, origin=origin)
        return self._renders.get(
            reply,
            (embeddable, feedback),
            lambda: show_in_channel(reply, embeddable=embeddable, feedback=feedback, origin=None),
        )

    def _is_addressed(self, message: discord.Message) -> bool:
        """Tell whether a message is for the bot: a DM, or text that mentions it or its role.

        Reply pings are not mentions here: replying to one of the bot's answers to
        talk about it with others should not draw another answer. Constant work, no
        allocation beyond two short strings: every message the bot can see comes here.
        """
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return False
        if message.type not in ANSWERED_MESSAGE_TYPES:
            return False
        if message.guild is None:
            return True
        content = message.content
        if f"<@{me.id}>" in content or f"<@!{me.id}>" in content:
            return True
        role = message.guild.self_role
        return role is not None and f"<@&{role.id}>" in content

    async def _is_host_command(self, message: discord.Message) -> bool:
        """Leave a message to the host bot when it invokes one of its own commands."""
        if not self.bot.all_commands:
            return False
        context = await self.bot.get_context(message)
        return context.valid

    # -- slash commands ---------------------------------------------------------------

    @app_commands.command(name=ASK_COMMAND, description=ASK_DESCRIPTION)
    @app_commands.describe(question=QUESTION_DESCRIPTION)
    async def ask(self, interaction: discord.Interaction, question: str | None = None) -> None:
        """``/ketamine question:<text>``: the answer, privately in a server."""
        await self._ask(interaction, question or "")

    @tracked
    async def _ask(self, interaction: discord.Interaction, question: str) -> None:
        responder = self.service.responder
        interface = responder.knowledge.replies.interface
        in_guild = _in_guild(interaction)
        show = functools.partial(
            show_as_response,
            in_guild=in_guild,
            private=in_guild,  # a check-in too: ephemeral in a server; "No" answers in place
            share_label=interface.share_button,
            feedback=self.feedback_labels(interface),
        )
        outcome, shown = await self.ask_core(question, interaction.user.id, responder, show)
        reply = outcome.reply
        if reply is None or shown is None:  # an interaction must be answered: even SILENT
            await respond(interaction, ephemeral=True, content=render_notice(interface.cooldown))
            return
        await respond(interaction, ephemeral=in_guild, **shown.parts())

    @ask.autocomplete("question")
    async def complete_question(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Canonical questions that fit what the member has typed so far (at most 25)."""
        suggest = self.service.responder.suggest  # matching: off the loop, like every answer
        suggestions = await asyncio.to_thread(suggest, current, limit=limits.AUTOCOMPLETE_CHOICES)
        choices: dict[str, app_commands.Choice[str]] = {}
        for suggestion in suggestions[: limits.AUTOCOMPLETE_CHOICES]:
            value = suggestion.question[: limits.CHOICE_VALUE]
            name = shorten(suggestion.question, limits.CHOICE_NAME)
            choices.setdefault(value, app_commands.Choice(name=name, value=value))
        return list(choices.values())

    @app_commands.command(name=SOURCES_COMMAND, description=SOURCES_DESCRIPTION)
    async def list_sources(self, interaction: discord.Interaction) -> None:
        """``/ketamine-sources``: every source with its link, privately in a server."""
        await self._list_sources(interaction)

    @tracked
    async def _list_sources(self, interaction: discord.Interaction) -> None:
        responder = self.service.responder
        await self._answer(
            interaction, responder, responder.sources(), ephemeral=_in_guild(interaction)
        )

    # -- button presses (views.PressHandler) ----------------------------------------------

    @tracked
    async def on_suggestion_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Answer the picked entry, as privately as the message the button is on."""
        responder = self.service.responder
        try:
            reply = responder.answer(entry_id)
        except KeyError:  # the entry left the knowledge base since the button was sent
            reply = responder.help()
        message = interaction.message
        private = message is not None and message.flags.ephemeral
        await self._answer(interaction, responder, reply, ephemeral=private)

    @tracked
    async def on_share_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Post a privately read answer in the channel, saying who shared it."""
        responder = self.service.responder
        interface = responder.knowledge.replies.interface
        try:
            reply = responder.answer(entry_id)
        except KeyError:
            await self._answer(interaction, responder, responder.help(), ephemeral=True)
            return
        if await self.cooldown_verdict(interaction.user.id) is not Verdict.ALLOW:
            await respond(interaction, ephemeral=True, content=render_notice(interface.cooldown))
            return
        sharer = interface.shared_by.replace("{user}", interaction.user.display_name)
        view = reply_view(reply, feedback=self.feedback_labels(interface))
        await respond(
            interaction, ephemeral=False, embed=render_reply(reply, shared_by=sharer), view=view
        )

    # -- helpers ----------------------------------------------------------------------------

    async def _answer(
        self,
        interaction: discord.Interaction,
        responder: Responder,
        reply: Reply,
        *,
        ephemeral: bool,
        limited: bool = True,
    ) -> None:
        """Send ``reply`` as the interaction's response, with its buttons.

        A crisis reply in a server is always ephemeral. A reply others would see goes
        through the cooldown when ``limited`` (``ask`` has applied it already; a picked
        suggestion or the source list has not); a refused member is told privately.
        """
        interface = responder.knowledge.replies.interface
        in_guild = _in_guild(interaction)
        crisis = reply.kind is ReplyKind.CRISIS
        ephemeral = ephemeral or (crisis and in_guild)
        held_back = (
            limited
            and not ephemeral
            and not crisis
            and await self.cooldown_verdict(interaction.user.id) is not Verdict.ALLOW
        )
        if held_back:
            await respond(interaction, ephemeral=True, content=render_notice(interface.cooldown))
            return
        shown = show_as_response(
            reply,
            in_guild=in_guild,
            private=ephemeral,
            share_label=interface.share_button,
            feedback=self.feedback_labels(interface),
        )
        await respond(interaction, ephemeral=ephemeral, **shown.parts())


def show_in_channel(
    reply: Reply,
    *,
    embeddable: bool,
    feedback: tuple[str, str] | None,
    origin: Origin | None,
) -> Shown:
    """``reply`` as a reply to a message: an embed (plain text where the bot may not embed).

    A check-in carries its two buttons (with ``origin``, where the member asked in a
    server); a crisis reply, no buttons at all; anything else, its suggestions and votes.
    """
    if reply.kind is ReplyKind.CHECK_IN:
        return Shown(embed=render_reply(reply), view=check_in_view(reply, origin))
    if reply.kind is ReplyKind.CRISIS:
        return Shown(embed=render_reply(reply))
    view = reply_view(reply, feedback=feedback)
    if embeddable:
        return Shown(embed=render_reply(reply), view=view)
    return Shown(content=render_plain(reply), view=view)


def show_as_response(
    reply: Reply,
    *,
    in_guild: bool,
    private: bool,
    share_label: str,
    feedback: tuple[str, str] | None,
) -> Shown:
    """``reply`` as an interaction's response: an embed with its buttons.

    A check-in gets its two buttons (answered in place: no origin); an answer read
    privately in a server gets "Share in channel" as well.
    """
    if reply.kind is ReplyKind.CHECK_IN:
        return Shown(embed=render_reply(reply), view=check_in_view(reply))
    shareable = private and reply.kind is ReplyKind.ANSWER and in_guild
    view = reply_view(reply, share_label=share_label if shareable else None, feedback=feedback)
    return Shown(embed=render_reply(reply), view=view)
