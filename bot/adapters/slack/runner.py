"""The Slack platform of ``ketamine-bot run``, over HTTP or Socket Mode.

HTTP mode serves the Events API, slash commands and interactivity on one path
(``/slack/events``) plus ``GET /healthz`` (the public port's health check; ``/metrics`` and
``/readyz`` stay on the internal listener); Socket Mode opens a websocket to Slack instead
and needs no public URL. Both build one Bolt ``AsyncApp`` and call ``attach`` on it, as a
team embedding the bot in its own app would. ``bot.ops.process`` starts and stops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.moderators import Moderation
from bot.adapters.slack import attach
from bot.adapters.slack.delivery import client_logger, error_code, retry_handlers
from bot.adapters.slack.handlers import SlackAdapter
from bot.adapters.slack.settings import (
    API_TIMEOUT_SECONDS,
    EVENTS_PATH,
    SettingsError,
    SlackSettings,
)
from bot.core.service import BotService
from bot.ops.health import public_routes
from bot.settings import DEFAULT_SHUTDOWN_SECONDS

# auth.test / apps.connections.open errors that mean "this token is wrong", not "try later"
_REFUSED_TOKEN = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}

log = logging.getLogger("bot.adapters.slack")


class _TokenFromClient(logging.Filter):
    """Drop Bolt's warning that ``SLACK_BOT_TOKEN`` is unused: by design, the client has it.

    Bolt reads ``SLACK_BOT_TOKEN`` from the environment by itself and warns, at every start,
    that the client we give it takes precedence; an admin would read that as a problem.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenFromClient())


class StartupError(RuntimeError):
    """Slack could not be reached when starting; ``str()`` is the one line to print."""


class SlackRuntime:
    """One running Slack bot: HTTP session, Web API client, Bolt app and its transport."""

    name = "slack"

    def __init__(
        self,
        service: BotService,
        settings: SlackSettings,
        routes: Sequence[web.RouteDef] | None = None,
        moderation: Moderation | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.moderation = moderation  # None: attach() reads the MOD_* settings itself
        # GET routes served beside /slack/events in HTTP mode: the public health check only
        self.routes = list(routes) if routes is not None else public_routes()
        self.app: AsyncApp | None = None
        self.adapter: SlackAdapter | None = None
        self.port: int | None = None  # the bound HTTP port (useful with port 0)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        """Check the token with Slack, attach the bot, then start taking requests."""
        settings = self.settings
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS)
        )
        client = AsyncWebClient(
            base_url=settings.api_url,
            session=self._session,  # one connection pool for every call, not one per call
            timeout=API_TIMEOUT_SECONDS,
            retry_handlers=retry_handlers(),
            logger=client_logger(),  # no debug line built per call unless LOG_LEVEL=DEBUG
        )
        signed_in = await _check_token(client, settings)
        identity = AuthorizeResult.from_auth_test_response(
            auth_test_response=signed_in, bot_token=settings.bot_token
        )

        async def authorize() -> AuthorizeResult:
            """Reuse the start-up auth.test: no request waits for one (nor sends 50 at once)."""
            return identity

        self.app = AsyncApp(
            client=client,  # no token of its own: each request gets the bot token from authorize
            authorize=authorize,
            signing_secret=settings.signing_secret or "",
            name="ketamine-bot",
            # no assistant-thread helpers (say_stream, set_status...) are used: skip building them
            attaching_conversation_kwargs_enabled=False,
        )
        self.adapter = attach(self.app, self.service, moderation=self.moderation)
        if settings.socket_mode:
            await self._start_socket_mode(client)
        else:
            await self._start_http()
        log.info(
            "Slack: signed in to %s as %s (%s)", identity.team, identity.user, identity.bot_user_id
        )

    @property
    def connected(self) -> bool:
        """Taking events: HTTP server listening, or the Socket Mode websocket open."""
        if self._runner is not None:
            return True
        socket = self._socket.client if self._socket is not None else None
        if socket is None or socket.closed or socket.stale:
            return False
        return socket.current_session is not None and not socket.current_session.closed

    @property
    def in_flight(self) -> int:
        """Requests acknowledged (or being acknowledged) whose answer is not sent yet."""
        return self.adapter.work.active if self.adapter is not None else 0

    async def wait_connected(self) -> None:
        """Nothing to wait for: ``start`` returns once Slack can reach the bot."""

    async def finished(self) -> None:
        """Never returns by itself: the HTTP server and Socket Mode (it reconnects) run on."""
        await asyncio.get_running_loop().create_future()

    async def close_intake(self) -> None:
        """Stop taking requests: close the websocket, or stop listening for HTTP."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            # stops listening at once; requests being read get up to DEFAULT_SHUTDOWN_SECONDS
            await self._runner.cleanup()
            self._runner = None

    async def stop(self, drain_seconds: float = DEFAULT_SHUTDOWN_SECONDS) -> None:
        """Stop taking requests, let acknowledged answers finish, then close connections."""
        await self.close_intake()
        if self.adapter is not None and not await self.adapter.idle(drain_seconds):
            log.warning("Slack: %d answer(s) still unsent at shutdown", self.adapter.work.active)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _start_http(self) -> None:
        assert self.app is not None
        web_app = self.app.web_app(path=EVENTS_PATH, port=self.settings.port)
        web_app.add_routes(self.routes)
        self._runner = web.AppRunner(
            web_app, access_log=None, shutdown_timeout=DEFAULT_SHUTDOWN_SECONDS
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info(
            "Slack: HTTP mode, listening on http://%s:%d%s",
            self.settings.host,
            self.port,
            EVENTS_PATH,
        )

    async def _start_socket_mode(self, client: AsyncWebClient) -> None:
        """Open the websocket; a refused app token fails here instead of retrying forever."""
        assert self.app is not None and self.settings.app_token is not None
        try:
            opened = await client.apps_connections_open(app_token=self.settings.app_token)
        except SlackApiError as error:
            raise _refusal("SLACK_APP_TOKEN", "apps.connections.open", error, client) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, SlackClientError) as error:
            raise _unreachable(client, error) from None
        self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
        self._socket.client.wss_uri = opened["url"]  # use the URL we just opened
        await self._socket.connect_async()
        log.info("Slack: Socket Mode, connected")


async def _check_token(client: AsyncWebClient, settings: SlackSettings) -> AsyncSlackResponse:
    """Call auth.test once, so a wrong token or URL fails at start with one clear line."""
    try:
        return await client.auth_test(token=settings.bot_token)
    except SlackApiError as error:
        raise _refusal("SLACK_BOT_TOKEN", "auth.test", error, client) from None
    except (aiohttp.ClientError, asyncio.TimeoutError, SlackClientError) as error:
        raise _unreachable(client, error) from None


def _refusal(variable: str, method: str, error: SlackApiError, client: AsyncWebClient) -> Exception:
    code = error_code(error)
    if code in _REFUSED_TOKEN:
        return SettingsError(f"{variable} was refused by Slack ({code})")
    answer = code or f"HTTP {error.response.status_code}"
    return StartupError(f"the Slack Web API at {client.base_url} answered {method} with {answer}")


def _unreachable(client: AsyncWebClient, error: Exception) -> StartupError:
    reason = str(error) or type(error).__name__
    return StartupError(f"cannot reach the Slack Web API at {client.base_url}: {reason}")
