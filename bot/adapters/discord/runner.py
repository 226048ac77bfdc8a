"""``ketamine-bot run discord``: the standalone bot built around ``KetamineCog``.

``DiscordRuntime`` is what ``ketamine-bot run`` (``bot.ops.process``) drives beside Slack
in one event loop: start (log in, add the cog, sync commands, connect), ``connected`` for
``/readyz``, and a clean stop that refuses new work, lets answers in flight finish, then
disconnects. Settings come from the environment (``config.py``); problems a person must
fix end the program with exit code 2 and one line on stderr, never the token itself.
Sharding: see ``README.md`` beside this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.cog import KetamineCog
from bot.adapters.discord.config import (
    GUILD_VARIABLE,
    TOKEN_VARIABLE,
    DiscordSettings,
)
from bot.adapters.discord.work import WorkTracker
from bot.adapters.moderators import Moderation
from bot.core.service import BotService
from bot.ops.lifecycle import EXIT_CONFIG, EXIT_FAILED, PlatformFailure

GATEWAY_AUTHENTICATION_FAILED = 4004  # close code: the gateway rejected the token
DRAIN_SECONDS = 10.0  # default wait for answers in flight at shutdown
IDENTIFY_INTERVAL = 5.0  # seconds: Discord allows one IDENTIFY per bucket per interval

_log = logging.getLogger(__name__)


def bot_intents() -> discord.Intents:
    """Ask for the minimum: servers and channels, and message events in servers and DMs.

    No privileged intent. Discord sends the text of a message that mentions the bot,
    and of every DM, without Message Content; slash commands, autocomplete and
    buttons need no intent at all. ``guilds`` keeps channels and permissions known
    (a message could not even be told apart from a DM without it).
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    return intents


class _NoEventsOnceClosed:
    """Drop gateway events that arrive after ``close()``.

    discord.py forgets its event loop when it closes, so a late event cannot be scheduled:
    the "ready" it holds back while servers load (``guild_ready_timeout``), if the bot is
    stopped within those seconds, raised AttributeError in discord.py's own task and left
    its handler's coroutine unawaited. Overrides ``dispatch``, a public method; one check
    per event.
    """

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if not self.is_closed():  # type: ignore[attr-defined]
            super().dispatch(event_name, *args, **kwargs)  # type: ignore[misc]


class StandaloneBot(_NoEventsOnceClosed, commands.Bot):
    """The bot ``ketamine-bot run discord`` runs in one process and one shard."""


class ShardedBot(_NoEventsOnceClosed, commands.AutoShardedBot):
    """``AutoShardedBot`` that identifies its shards as fast as Discord allows, no faster.

    discord.py waits 5 s before every IDENTIFY but the first. Discord allows one per
    rate-limit bucket (``shard_id % max_concurrency``, from ``GET /gateway/bot``) every
    5 s, so a bot with ``max_concurrency`` 16 brings 16 shards up at once. Uses
    ``before_identify_hook``, the hook discord.py documents for exactly this.
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self._max_concurrency: int | None = None
        self._next_identify: dict[int, float] = {}  # bucket -> earliest next IDENTIFY

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's bucket to allow an IDENTIFY (reserving its slot first)."""
        bucket = (shard_id or 0) % await self._identify_concurrency()
        now = asyncio.get_running_loop().time()
        at = max(now, self._next_identify.get(bucket, now))
        self._next_identify[bucket] = at + IDENTIFY_INTERVAL
        if at > now:
            await asyncio.sleep(at - now)

    async def _identify_concurrency(self) -> int:
        if self._max_concurrency is None:
            try:
                limits = await self.fetch_session_start_limits()
            except (discord.HTTPException, aiohttp.ClientError, OSError):
                return 1  # unknown: the safe assumption, one at a time (not remembered)
            self._max_concurrency = max(1, limits.max_concurrency)
            _log.info(
                "Discord: %d of %d session starts left today; up to %d shard(s) identify at once",
                limits.remaining,
                limits.total,
                self._max_concurrency,
            )
        return self._max_concurrency


def answer_messages_directly(bot: commands.Bot, cog: KetamineCog) -> None:
    """Make the cog's message listener the bot's own ``on_message``: one task per message.

    discord.py runs the bot's ``on_message`` and each cog listener as a task of its own
    for every message the bot can see; the standalone bot has no prefix commands, so its
    own ``on_message`` (which must exist, or ``Bot.on_message`` would parse every message
    for a command) would only cost a second task per message. Public API only:
    ``remove_listener`` and ``event``. A host bot that adds the cog keeps its listener.
    """
    bot.remove_listener(cog.answer_message, "on_message")

    async def on_message(message: discord.Message) -> None:
        """Every message the bot can see: the cog answers those for it, O(1) for the rest."""
        await cog.answer_message(message)

    bot.event(on_message)


def build_bot(settings: DiscordSettings, **options: Any) -> commands.Bot:
    """Build a ``commands.Bot`` (a ``ShardedBot`` when sharded).

    Sharded means ``DISCORD_SHARDED`` (Discord's recommended shard count, all in this
    process) or a ``shard_count`` option (``SHARD_COUNT``, with ``shard_ids`` naming this
    process's shards). ``options`` go to the bot unchanged (tests pass a short
    ``guild_ready_timeout``).
    """
    # the bot never joins a voice channel: discord.py's start-up warnings that the voice
    # libraries are missing would only alarm whoever reads the log
    discord.VoiceClient.warn_nacl = False
    if hasattr(discord.VoiceClient, "warn_dave"):
        discord.VoiceClient.warn_dave = False
    sharded = settings.sharded or options.get("shard_count") is not None
    bot_class = ShardedBot if sharded else StandaloneBot
    bot = bot_class(
        command_prefix=commands.when_mentioned,
        help_command=None,
        intents=bot_intents(),
        allowed_mentions=discord.AllowedMentions.none(),
        max_messages=None,  # nothing here reads old messages back
        member_cache_flags=discord.MemberCacheFlags.none(),
        **options,
    )

    @bot.event
    async def on_message(message: discord.Message) -> None:
        """No prefix commands: "@bot question" would only raise CommandNotFound."""

    @bot.event
    async def on_ready() -> None:
        _log.info(
            "Discord: connected as %s (id %s) in %d server(s)",
            bot.user,
            bot.user and bot.user.id,
            len(bot.guilds),
        )

    return bot


async def sync_commands(bot: commands.Bot, guild_id: int | None) -> list[app_commands.AppCommand]:
    """Upload the slash commands: to one server (instant) when given, else globally."""
    if guild_id is None:
        return await bot.tree.sync()
    guild = discord.Object(id=guild_id)
    bot.tree.copy_global_to(guild=guild)
    return await bot.tree.sync(guild=guild)


class DiscordRuntime:
    """One standalone Discord bot, driven by ``ketamine-bot run`` (``bot.ops.process``).

    ``shard_count`` and ``shard_ids`` default to the settings' (``SHARD_COUNT``,
    ``SHARD_IDS``); the runner may pass its own. ``work`` is the cog's work tracker:
    shutdown closes it and waits for what it holds.
    """

    name = "discord"

    def __init__(
        self,
        service: BotService,
        settings: DiscordSettings,
        *,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
        moderation: Moderation | None = None,
        **bot_options: Any,
    ) -> None:
        self.service = service
        self.settings = settings
        self.moderation = moderation  # None: the cog reads the MOD_* settings itself
        if shard_count is None:
            shard_count, shard_ids = settings.shard_count, settings.shard_ids
        if shard_count is not None:
            bot_options.update(shard_count=shard_count, shard_ids=list(shard_ids or []) or None)
        self.bot = build_bot(settings, **bot_options)
        self.work = WorkTracker(service.pool)
        # with shards split across processes, only the one running shard 0 uploads commands
        self._syncs = shard_count is None or not shard_ids or 0 in shard_ids
        self._connection: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in, add the cog, sync commands and connect; ``PlatformFailure`` on failure."""
        bot = self.bot
        await bot.__aenter__()  # what ``async with bot`` does: set up its event loop hooks
        try:
            await bot.login(self.settings.token)
        except discord.LoginFailure:
            raise _token_rejected() from None
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            detail = getattr(error, "status", None) or error.__class__.__name__
            raise PlatformFailure(f"could not log in to Discord ({detail})", EXIT_FAILED) from None
        cog = KetamineCog(bot, service=self.service, moderation=self.moderation, work=self.work)
        await bot.add_cog(cog)
        answer_messages_directly(bot, cog)
        if self._syncs:
            await self._sync()
        self._connection = asyncio.create_task(bot.connect(), name="discord-gateway")

    async def _sync(self) -> None:
        guild_id = self.settings.guild_id
        try:
            await sync_commands(self.bot, guild_id)
        except discord.Forbidden:
            if guild_id is not None:
                raise PlatformFailure(
                    f"Discord refused the slash commands for the server in {GUILD_VARIABLE} "
                    "(403): invite the bot there with the applications.commands scope",
                    EXIT_CONFIG,
                ) from None
            _log.warning("Discord refused the slash commands (403); mentions and DMs still work")
        except discord.HTTPException as error:
            _log.warning(
                "could not sync slash commands (HTTP %s); mentions and DMs still work", error.status
            )

    @property
    def connected(self) -> bool:
        """Ready, and every gateway connection of this process open."""
        bot = self.bot
        if not bot.is_ready() or bot.is_closed() or not self.work.open:
            return False
        if isinstance(bot, commands.AutoShardedBot):
            shards = bot.shards.values()
            return bool(shards) and not any(shard.is_closed() for shard in shards)
        return bot.ws is not None and bot.ws.open

    @property
    def in_flight(self) -> int:
        """Messages, commands and presses whose handling has not finished."""
        return self.work.in_flight

    async def wait_connected(self) -> None:
        """Return once the gateway is ready (every shard of this process connected)."""
        await self.bot.wait_until_ready()

    async def finished(self) -> None:
        """Return when the connection ends cleanly; ``PlatformFailure`` when it fails."""
        if self._connection is None:
            return
        try:
            await asyncio.shield(self._connection)
        except discord.ConnectionClosed as error:
            if error.code == GATEWAY_AUTHENTICATION_FAILED:
                raise _token_rejected() from None
            _log.error("the Discord gateway closed the connection (code %s)", error.code)
            raise PlatformFailure("", EXIT_FAILED) from None
        except (discord.DiscordException, OSError):
            _log.exception("the Discord connection failed")
            raise PlatformFailure("", EXIT_FAILED) from None

    async def close_intake(self) -> None:
        """Refuse new work (the gateway stays up, so answers in flight can be sent)."""
        self.work.close()

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Refuse new events, wait for answers in flight (bounded), then disconnect."""
        if not await self.work.drain(drain_seconds):
            _log.warning("Discord: %d answer(s) still unsent at shutdown", self.work.in_flight)
        await self.bot.close()
        if self._connection is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._connection


def _token_rejected() -> PlatformFailure:
    return PlatformFailure(
        f"Discord rejected {TOKEN_VARIABLE}: copy a fresh token from the Bot page of the "
        "developer portal",
        EXIT_CONFIG,
    )
