"""A fake Discord on 127.0.0.1: REST API and gateway, enough for the real discord.py client.

Point the client at it with ``discord.http.Route.BASE = fake.api_base`` and
``DiscordWebSocket.DEFAULT_GATEWAY = fake.gateway``. Every REST request is recorded
(method, path, JSON body) so tests assert on exactly what the client sent; failures
(429, 500, 403) can be queued per route; events are pushed down the gateway.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yarl
from aiohttp import WSMsgType, web

from tests.discord import payloads

JSON_TYPE = "application/json"  # exactly: discord.py compares the header verbatim
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GfAkEt.fake-token-for-tests-only_0123456789"
HEARTBEAT_MS = 41_250
CANNOT_DM = 50007


@dataclass
class Recorded:
    """One REST request as the fake received it."""

    method: str
    path: str
    body: Any
    query: dict[str, str]
    at: float


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass
class _Session:
    session_id: str
    shard: list[int]
    seq: int = 0
    socket: web.WebSocketResponse | None = None


@dataclass
class _Routes:
    table: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = field(default_factory=list)

    def add(self, method: str, pattern: str, handler: Callable[..., Any]) -> None:
        self.table.append((method, re.compile(pattern), handler))

    def find(self, method: str, path: str) -> tuple[Callable[..., Any], dict[str, str]] | None:
        for route_method, pattern, handler in self.table:
            match = pattern.fullmatch(path)
            if route_method == method and match:
                return handler, match.groupdict()
        return None


class FakeDiscord:
    """REST + gateway on one loopback port; one server (``payloads.guild_create``)."""

    def __init__(self, *, shards: int = 1, max_concurrency: int = 1, token: str = TOKEN) -> None:
        self.token = token
        self.gateway_token = token  # set apart to make only the gateway refuse the token
        self.shard_count = shards
        self.max_concurrency = max_concurrency  # IDENTIFYs allowed per 5 s (GET /gateway/bot)
        self.guilds = [payloads.guild_create()]
        self.requests: list[Recorded] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.identifies: list[dict[str, Any]] = []
        self.identified_at: list[float] = []  # perf_counter() of each IDENTIFY
        self.resumes: list[dict[str, Any]] = []
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.dm_closed: set[int] = set()
        self._dm_channels: dict[str, int] = {}
        self._interactions: dict[str, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        self._sessions: dict[str, _Session] = {}
        self._live: dict[int, _Session] = {}
        self._session_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.on_request: Callable[[Recorded], None] | None = None  # e.g. a benchmark's counter
        self._routes = _Routes()
        self._add_routes()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for session in list(self._live.values()):
            if session.socket is not None:
                await session.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway(self) -> yarl.URL:
        return yarl.URL(f"ws://127.0.0.1:{self.port}/")

    # -- what tests use ------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait (without sleeping) until ``predicate`` holds after some request or event."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    def sent(self, method: str, pattern: str, *, since: int = 0) -> list[Recorded]:
        """Requests matching ``method`` and the path regex ``pattern``, from index ``since``."""
        regex = re.compile(pattern)
        return [
            request
            for request in self.requests[since:]
            if request.method == method and regex.fullmatch(request.path)
        ]

    async def wait_for_request(
        self, method: str, pattern: str, *, since: int = 0, count: int = 1, timeout: float = 5.0
    ) -> list[Recorded]:
        """The first ``count`` matching requests, waiting for them to arrive."""
        await self.wait_until(
            lambda: len(self.sent(method, pattern, since=since)) >= count, timeout
        )
        return self.sent(method, pattern, since=since)[:count]

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` instead."""
        self._failures.append(
            _Failure(
                method,
                re.compile(pattern),
                status,
                body or {"message": "error", "code": 0},
                headers or {},
                times,
            )
        )

    def rate_limit(self, method: str, pattern: str, retry_after: float) -> None:
        """The next matching request gets a 429 shaped like Discord's (body and headers)."""
        self.fail(
            method,
            pattern,
            429,
            body={
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": False,
            },
            headers={
                "Retry-After": str(retry_after),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "user",
            },
        )

    async def dispatch(self, event: str, data: dict[str, Any], *, shard_id: int = 0) -> None:
        """Push a gateway DISPATCH event down the live connection of ``shard_id``."""
        if event == "INTERACTION_CREATE":
            self._interactions[data["id"]] = data
        session = self._live[shard_id]
        session.seq += 1
        assert session.socket is not None
        await session.socket.send_json({"op": 0, "t": event, "s": session.seq, "d": data})

    async def drop_connection(self, *, shard_id: int = 0, code: int = 4000) -> None:
        """Close the gateway socket abruptly, as a network fault or a Discord restart would."""
        session = self._live.pop(shard_id)
        assert session.socket is not None
        await session.socket.close(code=code)

    async def request_reconnect(self, *, shard_id: int = 0) -> None:
        """Send opcode 7 RECONNECT, as Discord does before moving a session."""
        session = self._live[shard_id]
        assert session.socket is not None
        await session.socket.send_json({"op": 7, "d": None, "s": None, "t": None})

    def is_live(self, shard_id: int = 0) -> bool:
        return shard_id in self._live

    # -- gateway -------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        await socket.send_json(
            {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": None, "t": None}
        )
        session: _Session | None = None
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            op, data = payload["op"], payload.get("d")
            if op == 1:
                await socket.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                session = await self._identify(socket, data)
            elif op == 6:
                session = await self._resume(socket, data)
            async with self._changed:
                self._changed.notify_all()
        if session is not None and self._live.get(session.shard[0]) is session:
            del self._live[session.shard[0]]
        return socket

    async def _identify(
        self, socket: web.WebSocketResponse, data: dict[str, Any]
    ) -> _Session | None:
        self.identifies.append(data)
        self.identified_at.append(time.perf_counter())
        if data.get("token") != self.gateway_token:
            await socket.close(code=4004, message=b"Authentication failed.")
            return None
        shard = data.get("shard") or [0, 1]
        session = _Session(f"session-{next(self._session_ids)}", shard, socket=socket)
        self._sessions[session.session_id] = session
        self._live[shard[0]] = session
        ready: dict[str, Any] = {
            "v": 10,
            "user": payloads.BOT_USER,
            "guilds": [
                {"id": guild["id"], "unavailable": True} for guild in self._guilds_of(shard)
            ],
            "session_id": session.session_id,
            "resume_gateway_url": str(self.gateway),
            "application": {"id": str(payloads.APPLICATION_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if data.get("shard"):
            ready["shard"] = shard
        await self.dispatch("READY", ready, shard_id=shard[0])
        for guild in self._guilds_of(shard):
            await self.dispatch("GUILD_CREATE", guild, shard_id=shard[0])
        return session

    async def _resume(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        self.resumes.append(data)
        session = self._sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.token:
            await socket.send_json({"op": 9, "d": False, "s": None, "t": None})
            return None
        session.socket = socket
        self._live[session.shard[0]] = session
        await self.dispatch("RESUMED", {}, shard_id=session.shard[0])
        return session

    def _guilds_of(self, shard: list[int]) -> list[dict[str, Any]]:
        shard_id, count = shard
        return [guild for guild in self.guilds if (int(guild["id"]) >> 22) % count == shard_id]

    # -- REST ----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await request.json() if request.content_type == JSON_TYPE else None
        recorded = Recorded(request.method, path, body, dict(request.query), time.perf_counter())
        self.requests.append(recorded)
        if self.on_request is not None:
            self.on_request(recorded)
        async with self._changed:
            self._changed.notify_all()
        if not path.startswith(("/interactions/", "/webhooks/")) and (
            request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for failure in self._failures:
            if (
                failure.times > 0
                and failure.method == request.method
                and failure.path.fullmatch(path)
            ):
                failure.times -= 1
                return _json(failure.body, failure.status, failure.headers)
        found = self._routes.find(request.method, path)
        if found is None:
            return _json({"message": "404: Not Found", "code": 0}, 404)
        handler, parameters = found
        status, data = handler(body, **parameters)
        return _json(data, status)

    def _add_routes(self) -> None:
        add = self._routes.add
        add("GET", r"/users/@me", lambda body: (200, payloads.BOT_USER))
        add("GET", r"/oauth2/applications/@me", lambda body: (200, _application()))
        add("GET", r"/gateway", lambda body: (200, {"url": str(self.gateway)}))
        add("GET", r"/gateway/bot", lambda body: (200, self._gateway_bot()))
        add("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands)
        add("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._put_commands)
        add("POST", r"/users/@me/channels", self._open_dm)
        add("POST", r"/channels/(?P<channel>\d+)/messages", self._post_message)
        add("POST", r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback", self._callback)
        add("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup)

    def _gateway_bot(self) -> dict[str, Any]:
        return {
            "url": str(self.gateway),
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": self.max_concurrency,
            },
        }

    def _put_commands(self, body: Any, app: str, guild: str | None = None) -> tuple[int, Any]:
        registered = [
            dict(
                command,
                id=str(payloads.next_id()),
                application_id=app,
                version="1",
                **({"guild_id": guild} if guild else {}),
            )
            for command in body
        ]
        self.commands[guild] = registered
        return 200, registered

    def _open_dm(self, body: Any) -> tuple[int, Any]:
        user_id = int(body["recipient_id"])
        channel_id = str(payloads.next_id())
        self._dm_channels[channel_id] = user_id
        return 200, {"id": channel_id, "type": 1, "recipients": [payloads.user(user_id)]}

    def dm_channel_of(self, user_id: int) -> str | None:
        """The DM channel the bot opened with ``user_id``, if any."""
        return next((cid for cid, uid in self._dm_channels.items() if uid == user_id), None)

    def _post_message(self, body: Any, channel: str) -> tuple[int, Any]:
        if self._dm_channels.get(channel) in self.dm_closed:
            return 403, {"message": "Cannot send messages to this user", "code": CANNOT_DM}
        sent = self._message_from(body, channel_id=channel, flags=body.get("flags", 0))
        if channel not in self._dm_channels:
            sent["guild_id"] = str(payloads.GUILD_ID)
        return 200, sent

    def _callback(self, body: Any, interaction: str, token: str) -> tuple[int, Any]:
        kind = body["type"]
        response: dict[str, Any] = {"interaction": {"id": interaction, "type": 2}}
        if kind in (4, 7):
            data = body.get("data", {})
            channel_id = self._interactions.get(interaction, {}).get("channel_id")
            sent = self._message_from(
                data, channel_id=channel_id or str(payloads.CHANNEL_ID), flags=data.get("flags", 0)
            )
            response["interaction"].update(
                response_message_id=sent["id"],
                response_message_loading=False,
                response_message_ephemeral=bool(sent["flags"] & payloads.EPHEMERAL),
            )
            response["resource"] = {"type": kind, "message": sent}
        return 200, response

    def _followup(self, body: Any, app: str, token: str) -> tuple[int, Any]:
        """A follow-up message to an interaction (after a deferred response)."""
        channel_id = next(
            (i.get("channel_id") for i in self._interactions.values() if i.get("token") == token),
            None,
        )
        sent = self._message_from(
            body, channel_id=channel_id or str(payloads.CHANNEL_ID), flags=body.get("flags", 0)
        )
        return 200, sent

    def _message_from(self, body: dict[str, Any], *, channel_id: str, flags: int) -> dict[str, Any]:
        sent = {
            "id": str(payloads.next_id()),
            "channel_id": channel_id,
            "author": payloads.BOT_USER,
            "content": body.get("content") or "",
            "timestamp": payloads.TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": flags or 0,
        }
        self.messages[sent["id"]] = sent
        return sent


def _application() -> dict[str, Any]:
    return {
        "id": str(payloads.APPLICATION_ID),
        "name": "ketamine-bot",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": payloads.user(payloads.MEMBER_ID),
        "verify_key": "0" * 64,
        "flags": 0,
        "team": None,
        "interactions_endpoint_url": None,
    }


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if data is None:
        return web.Response(status=204)
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": JSON_TYPE, **(headers or {})},
    )
