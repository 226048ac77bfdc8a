"""A bare slack-bolt echo: the floor the bot's Slack adapter is measured against.

    SLACK_BOT_TOKEN=xoxb-... SLACK_SIGNING_SECRET=... SLACK_API_URL=http://127.0.0.1:PORT/api/ \\
        python benchmarks/echo_slack.py [--lean]

Started by ``benchmarks/slack_load.py``. One ``AsyncApp`` (request signatures checked,
the token's ``auth.test`` done once by Bolt's single-team authorization) whose
``app_mention`` listener acks and posts the mention's text back in its thread with
``chat.postMessage``. Its ``AsyncWebClient`` keeps one aiohttp session for every call,
as the bot's does (a new session per call would make the echo slower and flatter the
bot). Served by aiohttp on 127.0.0.1 at ``/slack/events``, access log off, as the bot is.
``--lean`` sets Bolt up as the bot does (``bot/adapters/slack/runner.py``): one ``auth.test``
at start-up reused by an ``authorize`` function, and ``attaching_conversation_kwargs_enabled``
off. Prints ``BENCH READY port=N`` on stderr; SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient


async def main() -> int:
    lean = "--lean" in sys.argv[1:]
    session = aiohttp.ClientSession()
    token = os.environ["SLACK_BOT_TOKEN"]
    client = AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"], session=session)
    secret = os.environ["SLACK_SIGNING_SECRET"]
    if lean:  # as bot/adapters/slack/runner.py sets Bolt up
        identity = AuthorizeResult.from_auth_test_response(
            auth_test_response=await client.auth_test(), bot_token=token
        )

        async def authorize() -> AuthorizeResult:
            return identity

        client = AsyncWebClient(base_url=os.environ["SLACK_API_URL"], session=session)
        app = AsyncApp(
            client=client,
            authorize=authorize,
            signing_secret=secret,
            attaching_conversation_kwargs_enabled=False,
        )
    else:
        app = AsyncApp(client=client, signing_secret=secret)

    @app.event("app_mention")
    async def echo(ack, event, client):  # noqa: ANN001, ANN202 - Bolt injects by name
        await ack()
        await client.chat_postMessage(
            channel=event["channel"], text=event.get("text") or "", thread_ts=event["ts"]
        )

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"BENCH READY port={runner.addresses[0][1]}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    await session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
