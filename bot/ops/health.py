"""``/healthz``, ``/readyz`` and ``/metrics`` as aiohttp routes.

``/metrics`` and ``/readyz`` say more about the bot than strangers should read, so they
are served only by the internal listener (``METRICS_HOST``, loopback by default, on
``METRICS_PORT``). ``/healthz`` says nothing but "up": it is served there and also on the
public Slack port, where a platform's router (Heroku) or load balancer checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from bot.core.service import BotService
from bot.ops.metrics import Metrics

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"


async def healthz(request: web.Request) -> web.Response:
    """The process is up and its event loop answers."""
    return web.json_response({"ok": True})


def public_routes() -> list[web.RouteDef]:
    """What the public port serves beside the platform's own paths: ``/healthz`` only."""
    return [web.get(HEALTH_PATH, healthz)]


class Health:
    """Answers probes from what the running bot knows about itself."""

    def __init__(
        self,
        service: BotService,
        metrics: Metrics,
        connected: Callable[[], Mapping[str, bool]],
    ) -> None:
        self._service = service
        self._metrics = metrics
        self._connected = connected
        self.stopping = False  # set at shutdown: load balancers stop sending work here

    def routes(self) -> list[web.RouteDef]:
        """The three GET routes of the internal listener."""
        return [
            web.get(HEALTH_PATH, healthz),
            web.get(READY_PATH, self.readyz),
            web.get(METRICS_PATH, self.metrics),
        ]

    def ready(self) -> tuple[bool, dict[str, object]]:
        """Ready: knowledge loaded, every configured platform connected, not shutting down."""
        knowledge = self._service.knowledge
        platforms = dict(self._connected())
        loaded = bool(knowledge.entries)
        ready = loaded and all(platforms.values()) and not self.stopping
        return ready, {
            "ready": ready,
            "stopping": self.stopping,
            "knowledge": {
                "loaded": loaded,
                "entries": len(knowledge.entries),
                "version": knowledge.version,
            },
            "platforms": platforms,
        }

    async def readyz(self, request: web.Request) -> web.Response:
        """200 when ready for members' questions, else 503 with what is missing."""
        ready, body = self.ready()
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus text format (or OpenMetrics when the scraper asks for it)."""
        body, content_type = self._metrics.render(request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})


class HealthServer:
    """The internal listener: a small aiohttp server with the health and metrics routes."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        self._health = health
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the bound port (useful with 0)

    async def start(self) -> None:
        """Listen on the host and port."""
        app = web.Application()
        app.add_routes(self._health.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
