"""``ketamine-bot run discord``: a standalone bot built around ``KetamineCog``.

Settings come from the environment (see ``config.py``). Problems a person must fix
(no token, a malformed one, one Discord rejects, a server the bot is not in) end the
program with exit code 2 and one line on stderr; the token itself is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
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
from bot.core.service import BotService
from bot.runner import EXIT_CONFIG

EXIT_OK = 0
EXIT_FAILED = 1
GATEWAY_AUTHENTICATION_FAILED = 4004  # close code: the gateway rejected the token

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
    """Build a ``commands.Bot`` (``AutoShardedBot`` when ``DISCORD_SHARDED`` is set).

    ``options`` go to the bot unchanged (tests pass a short ``guild_ready_timeout``).
    """
    bot_class = commands.AutoShardedBot if settings.sharded else commands.Bot
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
            "connected as %s (id %s) in %d server(s)",
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


def _fail(message: str) -> int:
    print(f"ketamine-bot run discord: {message}", file=sys.stderr)
    return EXIT_CONFIG


def _token_rejected() -> int:
    return _fail(
        f"Discord rejected {TOKEN_VARIABLE}: copy a fresh token from the Bot page of the "
        "developer portal"
    )


async def serve_discord(
    service: BotService,
    settings: DiscordSettings,
    *,
    stop: asyncio.Event | None = None,
    on_login: Callable[[], None] | None = None,
    **bot_options: Any,
) -> int:
    """Log in, add the cog, sync commands and stay connected until ``stop`` is set."""
    bot = build_bot(settings, **bot_options)
    async with bot:
        try:
            await bot.login(settings.token)
        except discord.LoginFailure:
            return _token_rejected()
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            detail = getattr(error, "status", None) or error.__class__.__name__
            print(
                f"ketamine-bot run discord: could not log in to Discord ({detail})", file=sys.stderr
            )
            return EXIT_FAILED
        if on_login is not None:
            on_login()
        await bot.add_cog(KetamineCog(bot, service=service))
        try:
            await sync_commands(bot, settings.guild_id)
        except discord.Forbidden:
            if settings.guild_id is not None:
                return _fail(
                    f"Discord refused the slash commands for the server in {GUILD_VARIABLE} "
                    "(403): invite the bot there with the applications.commands scope"
                )
            _log.warning("Discord refused the slash commands (403); mentions and DMs still work")
        except discord.HTTPException as error:
            _log.warning(
                "could not sync slash commands (HTTP %s); mentions and DMs still work", error.status
            )
        return await _stay_connected(bot, stop)


async def _stay_connected(bot: commands.Bot, stop: asyncio.Event | None) -> int:
    """Run the gateway connection (it reconnects by itself) until it ends or ``stop``."""
    connection = asyncio.create_task(bot.connect(), name="discord-gateway")
    waiters: set[asyncio.Future[Any]] = {connection}
    if stop is not None:
        waiters.add(asyncio.create_task(stop.wait(), name="discord-stop"))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        if task is not connection:
            task.cancel()
    if connection not in done:
        await bot.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await connection
        return EXIT_OK
    try:
        connection.result()
    except discord.ConnectionClosed as error:
        if error.code == GATEWAY_AUTHENTICATION_FAILED:
            return _token_rejected()
        _log.error("the Discord gateway closed the connection (code %s)", error.code)
        return EXIT_FAILED
    except (discord.DiscordException, OSError):
        _log.exception("the Discord connection failed")
        return EXIT_FAILED
    return EXIT_OK


def _setup_logging() -> None:
    discord.utils.setup_logging(level=logging.INFO)


async def _main(service: BotService, settings: DiscordSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal_number, stop.set)
    return await serve_discord(service, settings, stop=stop, on_login=_setup_logging)


def run_discord(service: BotService, environ: Mapping[str, str] | None = None) -> int:
    """Run the Discord bot until interrupted; the process exit code."""
    try:
        settings = DiscordSettings.from_environment(os.environ if environ is None else environ)
    except SettingsError as error:
        return _fail(str(error))
    return asyncio.run(_main(service, settings))
