"""One running bot process: storage, reloader, metrics, health, and each platform.

``bot.runner`` checks the settings and builds a ``Plan``; this class runs it in the
current event loop: start everything, wait for a stop request (or a platform failing by
itself), then shut down in order: refuse new events, let answers in flight finish,
close connections, stop the background tasks, write the queued records, close the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from bot.core.reload import KnowledgeReloader, ReloadResult
from bot.core.service import Asked, BotService
from bot.exitcodes import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from bot.ops.health import Health, HealthServer, public_routes
from bot.ops.lifecycle import Platform, PlatformFailure
from bot.ops.logs import FIELDS, log_answer
from bot.ops.metrics import Metrics
from bot.settings import PURGE_INTERVAL_SECONDS, SEEN_EVENT_SECONDS, SHARED_EXPIRY_SECONDS
from bot.storage.writer import StoreWriter

if TYPE_CHECKING:
    from contextvars import Token

    from bot.adapters.moderators import Moderation
    from bot.adapters.slack.work import EventClaims
    from bot.runner import Plan
    from bot.storage import Store
    from bot.storage.shared_state import SharedState

log = logging.getLogger("bot.runner")

STORE_OPEN_ATTEMPTS = 4  # 1 + 2 + 3 s of waiting for a database that is still starting


class BotProcess:
    """Everything ``ketamine-bot run`` starts, and the order it all stops in."""

    def __init__(self, service: BotService, plan: Plan) -> None:
        self.service = service
        self.plan = plan
        self.settings = plan.settings
        self.platforms: list[Platform] = []
        self.metrics = Metrics(service, plan.platforms, connected=self.connected)
        self.health = Health(service, self.metrics, self.connected)
        self.store: Store | None = None
        self.writer: StoreWriter | None = None
        self.reloader: KnowledgeReloader | None = None
        self.health_server: HealthServer | None = None
        self.ready = asyncio.Event()  # set once every platform is connected
        self.shared: SharedState | None = None  # with PostgreSQL: what replicas agree on
        self._listeners: list[Callable[[Asked], None]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._in_memory: tuple[Any, Any] | None = None  # the service's own gates, put back
        self._shared_events: Token[EventClaims | None] | None = None

    def connected(self) -> dict[str, bool]:
        """Each configured platform, and whether it is taking events now."""
        live = {platform.name: platform.connected for platform in self.platforms}
        return {name: live.get(name, False) for name in self.plan.platforms}

    async def run(self, stop: asyncio.Event) -> int:
        """Start, serve until ``stop`` or a platform failure, shut down; the exit code."""
        counter = self.metrics.error_handler()
        logging.getLogger().addHandler(counter)
        try:
            failed = await self._start()
            if failed is not None:
                await self._stop_platforms()
                return failed
            return await self._serve(stop)
        finally:
            await self._close()
            logging.getLogger().removeHandler(counter)

    # -- start ------------------------------------------------------------------------------

    async def _start(self) -> int | None:
        """Start everything; the exit code if something could not start."""
        from bot.adapters.moderators import Moderation, ModeratorSettings
        from bot.storage import StorageError, Store

        self._listen(self.metrics.observe)
        self._listen(log_answer)
        settings = self.settings
        for attempt in range(1, STORE_OPEN_ATTEMPTS + 1):
            try:
                self.store = await asyncio.to_thread(Store.from_settings, settings)
                break
            except StorageError as error:
                # the database may still be starting (compose, a fresh server), or a replica
                # starting beside this one may be creating the tables: try again shortly
                if attempt == STORE_OPEN_ATTEMPTS:
                    _say(f"ketamine-bot run: {error}")
                    return EXIT_FAILED
                log.warning("%s; trying again in %d s", error, attempt)
                await asyncio.sleep(attempt)
        assert self.store is not None
        # records and votes go through a queue to a thread of their own: a slow or locked
        # database delays records, never an answer (nor the event loop)
        self.writer = StoreWriter(self.store).start()
        self.metrics.watch_storage(self.writer)
        self._listen(self.writer.record)
        self._spawn(self._purge_daily(self.store), "storage-purge")
        try:
            await self._share_state(self.store)
        except Exception as error:  # SQLAlchemyError, or the secret file (StorageError)
            _say(f"ketamine-bot run: cannot set up the state replicas share: {error}")
            return EXIT_FAILED

        self.reloader = KnowledgeReloader(self.service)
        self.reloader.listeners.append(self._count_reload)
        await self.reloader.start()

        moderation = Moderation(
            settings=self.plan.moderators or ModeratorSettings(),
            store=self.writer,
            reloader=self.reloader,
        )
        self.platforms = self._build_platforms(moderation)
        if self.plan.metrics_port is not None:
            self.health_server = HealthServer(
                self.health, settings.metrics_host, self.plan.metrics_port
            )
            try:
                await self.health_server.start()
            except OSError as error:  # the port is taken, or the host is not this machine's
                _say(
                    f"ketamine-bot run: cannot serve METRICS_PORT {self.plan.metrics_port}: {error}"
                )
                return EXIT_FAILED
            log.info(
                "internal listener on http://%s:%d (/healthz /readyz /metrics)",
                settings.metrics_host,
                self.health_server.port,
            )
        else:
            log.info("no internal listener: set METRICS_PORT to serve /readyz and /metrics")
        results = await asyncio.gather(
            *(platform.start() for platform in self.platforms), return_exceptions=True
        )
        failures = [
            (platform.name, result)
            for platform, result in zip(self.platforms, results, strict=True)
            if isinstance(result, BaseException)
        ]
        for name, error in failures:
            if str(error):
                _say(f"ketamine-bot run {name}: {error}")
        if failures:
            return _exit_code([error for _, error in failures])
        log.info(
            "started",
            extra={
                FIELDS: {
                    "platforms": ",".join(self.plan.platforms),
                    "storage": self.store.location,
                    "shared_state": "postgresql" if self.shared is not None else "memory",
                    "entries": len(self.service.knowledge.entries),
                    "knowledge_version": self.service.knowledge.version,
                }
            },
        )
        self._spawn(self._announce_ready(), "ready")
        return None

    async def _share_state(self, store: Store) -> None:
        """With PostgreSQL, put cooldowns, alert limits and seen events in it.

        ``service.cooldown`` and ``service.alerts`` are replaced by gates with the same
        verdicts, backed by the database; the Slack adapter's ``SeenEvents`` picks the
        shared record up from ``SHARED_EVENTS`` when ``start`` builds it (platforms start
        in tasks that copy this context). Without PostgreSQL nothing changes: in memory.
        """
        from bot.adapters.slack.work import SHARED_EVENTS
        from bot.storage.shared_state import SharedState

        shared = SharedState.for_engine(store.engine, self.settings)
        if shared is None:
            return
        await asyncio.to_thread(shared.create_tables)
        service = self.service
        limits = service.knowledge.limits
        self._in_memory = (service.cooldown, service.alerts)
        service.cooldown = shared.cooldown(service.cooldown.seconds)  # type: ignore[assignment]
        service.alerts = shared.alerts(limits.alert_window_minutes * 60, limits.alerts_per_channel)
        self._shared_events = SHARED_EVENTS.set(shared.events(SEEN_EVENT_SECONDS))
        self.shared = shared
        self._spawn(self._expire_shared(shared), "shared-state-expiry")

    def _build_platforms(self, moderation: Moderation) -> list[Platform]:
        platforms: list[Platform] = []
        if self.plan.slack is not None:
            from bot.adapters.slack.runner import SlackRuntime

            platforms.append(
                SlackRuntime(self.service, self.plan.slack, public_routes(), moderation=moderation)
            )
        if self.plan.discord is not None:
            from bot.adapters.discord.runner import DiscordRuntime

            shards = self.settings.shards()
            platforms.append(
                DiscordRuntime(
                    self.service,
                    self.plan.discord,
                    shard_count=self.settings.shard_count,
                    shard_ids=shards,
                    moderation=moderation,
                    **self.plan.options,
                )
            )
        return platforms

    async def _announce_ready(self) -> None:
        await asyncio.gather(*(platform.wait_connected() for platform in self.platforms))
        self.ready.set()
        log.info(
            "ready",
            extra={FIELDS: {"platforms": ",".join(self.plan.platforms)}},
        )

    # -- serve and stop ---------------------------------------------------------------------

    async def _serve(self, stop: asyncio.Event) -> int:
        """Wait for a stop request or a platform ending by itself; then shut down."""
        stopped = asyncio.create_task(stop.wait(), name="stop-requested")
        ended = {
            asyncio.create_task(platform.finished(), name=f"{platform.name}-finished"): platform
            for platform in self.platforms
        }
        done, pending = await asyncio.wait({stopped, *ended}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        code = EXIT_OK
        for task in done:
            if task is stopped or task.cancelled():
                continue
            error = task.exception()
            if error is None:
                log.warning("%s stopped by itself; shutting down", ended[task].name)
                code = max(code, EXIT_FAILED)
                continue
            if str(error):
                _say(f"ketamine-bot run {ended[task].name}: {error}")
            code = max(code, _exit_code([error]))
        await self._stop_platforms()
        return code

    async def _stop_platforms(self) -> None:
        """Refuse new events, let answers in flight finish (bounded), close connections."""
        self.health.stopping = True
        closed = await asyncio.gather(
            *(platform.close_intake() for platform in self.platforms), return_exceptions=True
        )
        for platform, result in zip(self.platforms, closed, strict=True):
            if isinstance(result, BaseException):
                log.error("%s kept taking events: %r", platform.name, result)
        in_flight = sum(platform.in_flight for platform in self.platforms)
        log.info(
            "stopping",
            extra={FIELDS: {"in_flight": in_flight, "wait_s": self.settings.shutdown_timeout}},
        )
        results = await asyncio.gather(
            *(platform.stop(self.settings.shutdown_timeout) for platform in self.platforms),
            return_exceptions=True,
        )
        for platform, result in zip(self.platforms, results, strict=True):
            if isinstance(result, BaseException):
                log.error("%s did not stop cleanly: %r", platform.name, result)
        log.info("stopped")

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.reloader is not None:
            await self.reloader.stop()
        if self.health_server is not None:
            await self.health_server.stop()
        for listener in self._listeners:
            with contextlib.suppress(ValueError):
                self.service.listeners.remove(listener)
        if self._in_memory is not None:
            self.service.cooldown, self.service.alerts = self._in_memory
        if self._shared_events is not None:
            from bot.adapters.slack.work import SHARED_EVENTS

            SHARED_EVENTS.reset(self._shared_events)
        if self.writer is not None:
            await asyncio.to_thread(self.writer.close, self.settings.shutdown_timeout)
        if self.store is not None:
            await asyncio.to_thread(self.store.close)

    # -- background work --------------------------------------------------------------------

    async def _purge_daily(self, store: Store) -> None:
        """Delete records past the retention period now, then once a day."""
        while True:
            try:
                removed = await asyncio.to_thread(store.purge)
            except Exception:
                log.exception("deleting old records failed; trying again tomorrow")
            else:
                log.info("old records deleted", extra={FIELDS: {"rows": removed}})
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    async def _expire_shared(self, shared: SharedState) -> None:
        """Delete shared rows past their window every few minutes (any replica may)."""
        while True:
            await asyncio.sleep(SHARED_EXPIRY_SECONDS)
            limits = self.service.knowledge.limits
            try:
                await asyncio.to_thread(
                    shared.expire,
                    events_seconds=SEEN_EVENT_SECONDS,
                    cooldown_seconds=self.service.cooldown.seconds,
                    window_seconds=limits.alert_window_minutes * 60,
                )
            except Exception:
                log.exception("deleting expired shared state failed; trying again later")

    def _count_reload(self, result: ReloadResult) -> None:
        if result.problems:
            self.metrics.count_reload_failure()

    def _listen(self, listener: Callable[[Asked], None]) -> None:
        self.service.listeners.append(listener)
        self._listeners.append(listener)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))


def _exit_code(errors: list[BaseException]) -> int:
    """2 when any failure needs a person to fix a setting, else 1."""
    codes = []
    for error in errors:
        if isinstance(error, PlatformFailure):
            codes.append(error.exit_code)
        elif type(error).__name__ == "SettingsError":  # the Slack adapter's: a refused token
            codes.append(EXIT_CONFIG)
        else:
            if type(error).__name__ != "StartupError":  # Slack unreachable: said in one line
                log.error("%s failed", type(error).__name__, exc_info=error)
            codes.append(EXIT_FAILED)
    return EXIT_CONFIG if EXIT_CONFIG in codes else max(codes, default=EXIT_FAILED)


def _say(line: str) -> None:
    """One line on stderr, as every settings or start problem is reported."""
    print(line, file=sys.stderr, flush=True)
