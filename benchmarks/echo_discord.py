"""A bare discord.py echo: the floor the bot's Discord adapter is measured against.

    DISCORD_TOKEN=... python benchmarks/echo_discord.py --discord-base http://127.0.0.1:PORT

Started by ``benchmarks/discord_load.py``. A plain ``discord.Client`` with the bot's
intents (guilds, guild and DM messages) that answers every MESSAGE_CREATE mentioning it
with ``message.reply(message.content)`` (no pings: ``allowed_mentions`` none, as the bot
sends). Points discord.py at the fake Discord the way the tests do (``Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY``). Prints ``BENCH READY`` on stderr once the gateway is
ready; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import discord
import yarl
from discord.gateway import DiscordWebSocket

NO_PINGS = discord.AllowedMentions.none()


class Echo(discord.Client):
    async def on_ready(self) -> None:
        print("BENCH READY", file=sys.stderr, flush=True)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user not in message.mentions:
            return
        await message.reply(message.content or "?", allowed_mentions=NO_PINGS)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discord-base", required=True, help="the fake's http://127.0.0.1:PORT")
    args = parser.parse_args()
    discord.http.Route.BASE = f"{args.discord_base}/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.discord_base.replace("http", "ws") + "/")
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    client = Echo(intents=intents, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with client:
        running = asyncio.create_task(client.start(os.environ["DISCORD_TOKEN"]))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        await client.close()
        if running.done() and running.exception() is not None:
            raise running.exception()  # type: ignore[misc]
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
