"""``KetamineCog``: mentions, DMs, ``/ketamine``, ``/ketamine-sources`` and button presses.

Moderator commands, feedback votes and crisis alerts come from ``ModeratorCommands``
(``moderation.py``), mixed in here so that a host adds one cog.

Thin by design: what to say always comes from the core's ``Reply``; the cog only
decides *where* it goes (a reply, a DM, an ephemeral message), renders it and sends it.

Where replies go:
- a mention in a channel is answered there, as a reply, because the member asked there;
  slash commands and presses under private replies are answered ephemerally;
- a crisis reply never appears in a channel: it goes to the member's DMs (or
  ephemerally), and the channel sees only a short pointer that repeats nothing they wrote;
- the cooldown holds back what others would see; crisis replies and ephemeral replies
  (seen by the asker alone) are never held back.
"""

from __future__ import annotations

import logging
import os

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import limits
from bot.adapters.discord.delivery import can_embed, reply_to, respond, send_privately
from bot.adapters.discord.moderation import ModeratorCommands
from bot.adapters.discord.render import render_notice, render_plain, render_reply, shorten
from bot.adapters.discord.views import COG_NAME, DYNAMIC_ITEMS, reply_view
from bot.adapters.moderators import Moderation, ModeratorSettings
from bot.core.cooldown import Verdict
from bot.core.reload import KnowledgeReloader
from bot.core.reply import Reply, ReplyKind
from bot.core.responder import Responder
from bot.core.service import BotService

# Registered with Discord when commands are synced, so they live with the command
# definitions rather than in the moderators' replies.yaml.
ASK_COMMAND = "ketamine"
ASK_DESCRIPTION = "Ask a question about the article on ketamine for PTSD"
QUESTION_DESCRIPTION = "Your question, in your own words"
SOURCES_COMMAND = "ketamine-sources"
SOURCES_DESCRIPTION = "List every source the answers come from, with links"

ANSWERED_MESSAGE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})

_log = logging.getLogger(__name__)


def member_key(user_id: int) -> str:
    """Build the cooldown key for a Discord member (one namespace per platform)."""
    return f"discord:{user_id}"


def _in_guild(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None


class KetamineCog(ModeratorCommands, commands.Cog, name=COG_NAME):
    """Answers questions about the ketamine-for-PTSD article in any ``commands.Bot``.

    ``service`` is the running ``BotService``; ``None`` loads the default knowledge
    base (``KNOWLEDGE_DIR`` or the shipped ``knowledge/``). ``moderation`` holds the
    moderator settings, the store for votes and the shared reloader; ``None`` reads the
    ``MOD_*`` settings from the environment, with no store and a reloader of its own.
    """

    def __init__(
        self,
        bot: commands.Bot,
        service: BotService | None = None,
        *,
        moderation: Moderation | None = None,
    ) -> None:
        self.bot = bot
        self.service = service if service is not None else BotService.from_directory()
        self.moderation = moderation or Moderation(ModeratorSettings.from_environment(os.environ))
        self.reloader = self.moderation.reloader or KnowledgeReloader(self.service)

    async def cog_load(self) -> None:
        """Make buttons on earlier messages (even from before a restart) answer again."""
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.reloader.listeners.append(self.tell_moderators_about_reload)

    async def cog_unload(self) -> None:
        """Stop handling button presses and reload notices."""
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        if self.tell_moderators_about_reload in self.reloader.listeners:
            self.reloader.listeners.remove(self.tell_moderators_about_reload)

    # -- messages: mentions and DMs -----------------------------------------------------

    @commands.Cog.listener("on_message")
    async def answer_message(self, message: discord.Message) -> None:
        """Reply to a message that mentions the bot, or to any DM."""
        if not self._is_addressed(message) or await self._is_host_command(message):
            return
        responder = self.service.responder  # once: a reload swaps it whole
        reply = self.service.ask(
            message.content,
            platform="discord",
            member=member_key(message.author.id),
            responder=responder,
        )
        interface = responder.knowledge.replies.interface
        if reply.kind is ReplyKind.CRISIS:
            if message.guild is None:
                await reply_to(message, embed=render_reply(reply))
            elif await send_privately(message.author, embed=render_reply(reply)):
                await reply_to(message, content=render_notice(interface.crisis_sent_privately))
            else:  # DMs closed: a brief public pointer, never their words
                await reply_to(message, content=render_notice(interface.crisis_public_pointer))
            await self.alert_crisis(message)
            return
        verdict = self._check_cooldown(message.author.id)
        if verdict is Verdict.WARN:
            await reply_to(message, content=render_notice(interface.cooldown))
        if verdict is not Verdict.ALLOW:
            return
        view = reply_view(reply, feedback=self.feedback_labels(interface))
        if can_embed(message):
            await reply_to(message, embed=render_reply(reply), view=view)
        else:
            await reply_to(message, content=render_plain(reply), view=view)

    def _is_addressed(self, message: discord.Message) -> bool:
        """Tell whether a message is for the bot: a DM, or text that mentions it or its role.

        Reply pings are not mentions here: replying to one of the bot's answers to
        talk about it with others should not draw another answer.
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

    def _check_cooldown(self, user_id: int) -> Verdict:
        return self.service.cooldown.check(member_key(user_id))

    # -- slash commands ---------------------------------------------------------------

    @app_commands.command(name=ASK_COMMAND, description=ASK_DESCRIPTION)
    @app_commands.describe(question=QUESTION_DESCRIPTION)
    async def ask(self, interaction: discord.Interaction, question: str | None = None) -> None:
        """``/ketamine question:<text>``: the answer, privately in a server."""
        responder = self.service.responder
        reply = self.service.ask(
            question or "",
            platform="discord",
            member=member_key(interaction.user.id),
            responder=responder,
        )
        await self._answer(interaction, responder, reply, ephemeral=_in_guild(interaction))

    @ask.autocomplete("question")
    async def complete_question(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Canonical questions that fit what the member has typed so far (at most 25)."""
        suggestions = self.service.responder.suggest(current, limit=limits.AUTOCOMPLETE_CHOICES)
        choices: dict[str, app_commands.Choice[str]] = {}
        for suggestion in suggestions[: limits.AUTOCOMPLETE_CHOICES]:
            value = suggestion.question[: limits.CHOICE_VALUE]
            name = shorten(suggestion.question, limits.CHOICE_NAME)
            choices.setdefault(value, app_commands.Choice(name=name, value=value))
        return list(choices.values())

    @app_commands.command(name=SOURCES_COMMAND, description=SOURCES_DESCRIPTION)
    async def list_sources(self, interaction: discord.Interaction) -> None:
        """``/ketamine-sources``: every source with its link, privately in a server."""
        responder = self.service.responder
        await self._answer(
            interaction, responder, responder.sources(), ephemeral=_in_guild(interaction)
        )

    # -- button presses (views.PressHandler) ----------------------------------------------

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

    async def on_share_press(self, interaction: discord.Interaction, entry_id: str) -> None:
        """Post a privately read answer in the channel, saying who shared it."""
        responder = self.service.responder
        interface = responder.knowledge.replies.interface
        try:
            reply = responder.answer(entry_id)
        except KeyError:
            await self._answer(interaction, responder, responder.help(), ephemeral=True)
            return
        if self._check_cooldown(interaction.user.id) is not Verdict.ALLOW:
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
    ) -> None:
        """Send ``reply`` as the interaction's response, with its buttons.

        A crisis reply in a server is always ephemeral; a reply others would see goes
        through the cooldown (a refused member is told privately: an interaction must
        be answered).
        """
        interface = responder.knowledge.replies.interface
        crisis = reply.kind is ReplyKind.CRISIS
        ephemeral = ephemeral or (crisis and _in_guild(interaction))
        held_back = (
            not ephemeral
            and not crisis
            and self._check_cooldown(interaction.user.id) is not Verdict.ALLOW
        )
        if held_back:
            await respond(interaction, ephemeral=True, content=render_notice(interface.cooldown))
            return
        shareable = ephemeral and reply.kind is ReplyKind.ANSWER and _in_guild(interaction)
        view = reply_view(
            reply,
            share_label=interface.share_button if shareable else None,
            feedback=self.feedback_labels(interface),
        )
        await respond(interaction, ephemeral=ephemeral, embed=render_reply(reply), view=view)
