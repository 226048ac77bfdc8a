"""A fake Slack on 127.0.0.1: the Web API, response_url endpoints and a Socket Mode websocket.

It records every call with its parsed body, so tests assert exactly what Slack would have
received, and it can fail chosen calls (HTTP 500, ``ratelimited`` with Retry-After, or an
``ok: false`` error) to test what the bot does then. Waiting is done on a condition that
every recorded call notifies: no sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TEAM_ID = "T123"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOOKKEEPING = {"auth.test", "apps.connections.open"}  # calls that deliver nothing to members


@dataclass
class Call:
    """One request the bot made: the Web API method (or "response_url") and its body."""

    method: str
    body: dict[str, Any]
    path: str
    token: str | None = None
    status: int = 200


@dataclass
class Failure:
    """How the fake should fail the next matching calls."""

    method: str
    status: int
    error: str | None
    retry_after: int | None
    times: int
    when: Callable[[dict[str, Any]], bool] | None = field(default=None)


class FakeSlack:
    """Slack's side of the wire, on loopback, recording every call in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.socket_messages: list[dict[str, Any]] = []  # what the bot sent on the websocket
        self._failures: list[Failure] = []
        self._gates: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Condition()
        self._sockets: set[web.WebSocketResponse] = set()
        self._numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.usergroups: dict[str, list[str]] = {}  # usergroups.users.list answers

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/socket"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    # -- what tests use ---------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Fail the next ``times`` calls to ``method`` (whose body passes ``when``)."""
        self._failures.append(Failure(method, status, error, retry_after, times, when))

    def hold(self, method: str) -> asyncio.Event:
        """Keep calls to ``method`` waiting (recorded, unanswered) until the event is set."""
        gate = self._gates[method] = asyncio.Event()
        return gate

    def clear(self) -> None:
        self.calls.clear()
        self.socket_messages.clear()

    @property
    def deliveries(self) -> list[Call]:
        """Every call that would reach a member (sign-in bookkeeping left out)."""
        return [call for call in self.calls if call.method not in BOOKKEEPING]

    def bodies(self, method: str) -> list[dict[str, Any]]:
        return [call.body for call in self.calls if call.method == method]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds, re-checking after every recorded call."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to every connected client."""
        for socket in list(self._sockets):
            await socket.send_json(envelope)

    @property
    def connected(self) -> int:
        return len(self._sockets)

    # -- the wire ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await _read_body(request)
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") or None
        failure = self._take_failure(method, body)
        await self._record(
            Call(method, body, request.path, token, failure.status if failure else 200)
        )
        await self._pass_gate(method)
        if failure is not None:
            return _failure_response(failure)
        return web.json_response(self._answer(method, body))

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        failure = self._take_failure("response_url", body)
        await self._record(
            Call("response_url", body, request.path, None, failure.status if failure else 200)
        )
        await self._pass_gate("response_url")
        if failure is not None:
            return _failure_response(failure)
        return web.Response(text="ok", content_type="text/plain")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.add(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A123"}}
        )
        await self._notify()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self.socket_messages.append(json.loads(message.data))
                    await self._notify()
        finally:
            self._sockets.discard(socket)
            await self._notify()
        return socket

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake Team",
                "user": "ketamine-bot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            channel = str(body.get("channel", ""))
            if channel.startswith("U"):  # Slack posts to a user id in the bot's DM with them
                channel = "D" + channel[1:]
            return {"ok": True, "channel": channel, "ts": self._next_ts()}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V123", **body.get("view", {})}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "chat.getPermalink":
            channel, ts = body.get("channel", ""), str(body.get("message_ts", ""))
            link = f"https://fake.slack.test/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "usergroups.users.list":
            users = self.usergroups.get(str(body.get("usergroup", "")))
            if users is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": users}
        return {"ok": False, "error": "unknown_method"}

    def _take_failure(self, method: str, body: dict[str, Any]) -> Failure | None:
        for failure in self._failures:
            wanted = failure.method == method and failure.times > 0
            if wanted and (failure.when is None or failure.when(body)):
                failure.times -= 1
                return failure
        return None

    async def _pass_gate(self, method: str) -> None:
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"1700000100.{next(self._numbers):06d}"


def _failure_response(failure: Failure) -> web.Response:
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
    if failure.status >= 500:  # what a proxy in front of Slack sends: HTML, not JSON
        return web.Response(
            status=failure.status, text="<html>Server Error</html>", content_type="text/html"
        )
    error = failure.error or ("ratelimited" if failure.status == 429 else "fatal_error")
    return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)


async def _read_body(request: web.Request) -> dict[str, Any]:
    """The call's parameters, however slack-sdk sent them (JSON, form or query)."""
    body: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body.update(await request.json())
    elif request.can_read_body:
        body.update(await request.post())
    return body
