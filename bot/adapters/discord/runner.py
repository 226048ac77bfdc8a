"""``ketamine-bot run discord``: a standalone bot built around ``KetamineCog``.

Settings come from the environment (see ``config.py``). Problems a person must fix
(no token, a malformed one, one Discord rejects, a server the bot is not in) end the
program with exit code 2 and one line on stderr; the token itself is never printed.

``DiscordRuntime`` is what ``ketamine-bot run`` drives beside Slack in one event loop:
start (log in, add the cog, sync commands, connect), ``connected`` for ``/readyz``, and a
clean stop that refuses new events, lets answers in flight finish, then disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
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
    SettingsError,
)
from bot.adapters.moderators import Moderation
from bot.core.service import BotService
from bot.ops.lifecycle import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, PlatformFailure

GATEWAY_AUTHENTICATION_FAILED = 4004  # close code: the gateway rejected the token
DRAIN_SECONDS = 10.0  # default wait for answers in flight at shutdown
# gateway events that start work for a member; refused once shutdown begins
ANSWERED_EVENTS = ("MESSAGE_CREATE", "INTERACTION_CREATE")

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


def build_bot(settings: DiscordSettings, **options: Any) -> commands.Bot:
    """Build a ``commands.Bot`` (``AutoShardedBot`` when sharded).

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
    bot_class = commands.AutoShardedBot if sharded else commands.Bot
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


class EventGate:
    """Count the work each member event starts, and refuse new events once closed.

    discord.py turns one gateway event into tasks (listeners, slash commands, button
    callbacks), each created while the event is parsed; the gate wraps the parsers of
    ``ANSWERED_EVENTS`` and keeps those tasks, so shutdown can wait for exactly them.
    """

    def __init__(self, bot: commands.Bot) -> None:
        self._bot = bot
        self._tasks: set[asyncio.Task[Any]] = set()
        self.open = True

    @property
    def in_flight(self) -> int:
        """Tasks started by member events that have not finished."""
        return len(self._tasks)

    def install(self) -> None:
        """Wrap the connection state's parsers (the gateway reads this same dict)."""
        parsers = self._bot._connection.parsers
        for event in ANSWERED_EVENTS:
            parsers[event] = functools.partial(self._parse, parsers[event])

    def _parse(self, parse: Callable[[Any], None], data: Any) -> None:
        if not self.open:
            return  # shutting down: Discord redelivers nothing, but we answer nothing half
        before = asyncio.all_tasks()
        parse(data)
        for task in asyncio.all_tasks() - before:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float) -> bool:
        """Close the gate, then wait up to ``timeout`` s for work in flight; ``False`` if late."""
        self.open = False
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        return not pending


class DiscordRuntime:
    """One standalone Discord bot, driven by ``serve_discord`` or ``ketamine-bot run``."""

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
        if shard_count is not None:
            bot_options.update(shard_count=shard_count, shard_ids=list(shard_ids or []) or None)
        self.bot = build_bot(settings, **bot_options)
        self.gate = EventGate(self.bot)
        # with shards split across processes, only the one running shard 0 uploads commands
        self._syncs = shard_count is None or not shard_ids or 0 in shard_ids
        self._connection: asyncio.Task[None] | None = None

    async def start(self, on_login: Callable[[], None] | None = None) -> None:
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
        if on_login is not None:
            on_login()
        await bot.add_cog(KetamineCog(bot, service=self.service, moderation=self.moderation))
        if self._syncs:
            await self._sync()
        self.gate.install()
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
        if not bot.is_ready() or bot.is_closed() or not self.gate.open:
            return False
        if isinstance(bot, commands.AutoShardedBot):
            shards = bot.shards.values()
            return bool(shards) and not any(shard.is_closed() for shard in shards)
        return bot.ws is not None and bot.ws.open

    @property
    def in_flight(self) -> int:
        """Member events whose handling has not finished."""
        return self.gate.in_flight

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
        """Refuse new member events (the gateway stays up, so answers in flight can be sent)."""
        self.gate.open = False

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Refuse new events, wait for answers in flight (bounded), then disconnect."""
        if not await self.gate.drain(drain_seconds):
            _log.warning("Discord: %d answer(s) still unsent at shutdown", self.gate.in_flight)
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


def _fail(message: str, code: int = EXIT_CONFIG) -> int:
    if message:
        print(f"ketamine-bot run discord: {message}", file=sys.stderr)
    return code


async def serve_discord(
    service: BotService,
    settings: DiscordSettings,
    *,
    stop: asyncio.Event | None = None,
    on_login: Callable[[], None] | None = None,
    **bot_options: Any,
) -> int:
    """Log in, add the cog, sync commands and stay connected until ``stop`` is set."""
    runtime = DiscordRuntime(service, settings, **bot_options)
    try:
        await runtime.start(on_login=on_login)
    except PlatformFailure as failure:
        await runtime.bot.close()
        return _fail(str(failure), failure.exit_code)
    ended = asyncio.create_task(runtime.finished(), name="discord-finished")
    waiters: set[asyncio.Future[Any]] = {ended}
    if stop is not None:
        waiters.add(asyncio.create_task(stop.wait(), name="discord-stop"))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if ended not in done:
        await runtime.stop()
        return EXIT_OK
    try:
        ended.result()
    except PlatformFailure as failure:
        await runtime.bot.close()
        return _fail(str(failure), failure.exit_code)
    return EXIT_OK


def _setup_logging() -> None:
    if not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.INFO)


async def _main(service: BotService, settings: DiscordSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal_number, stop.set)
    return await serve_discord(service, settings, stop=stop, on_login=_setup_logging)


def run_discord(service: BotService, environ: Mapping[str, str] | None = None) -> int:
    """Run the Discord bot alone until interrupted; the process exit code.

    ``ketamine-bot run`` uses ``bot.runner`` instead, which adds health, metrics, storage
    and Slack in the same event loop; this stays for embedding and for tests.
    """
    try:
        settings = DiscordSettings.from_environment(os.environ if environ is None else environ)
    except SettingsError as error:
        return _fail(str(error))
    return asyncio.run(_main(service, settings))
