"""Prometheus metrics, with the official client library, in a registry of the bot's own.

- questions by platform and reply kind, and the time the core took to work each answer
  out: a ``BotService`` listener;
- knowledge-base entries and version, and whether each platform is connected: read at
  scrape time, so a reload shows without any hook;
- storage: records queued, written and lost (``watch_storage``), read at scrape time;
- reload failures: counted by the reloader hook (``count_reload_failure``);
- platform errors: every ERROR log record from a platform's library or adapter (that is
  where discord.py, Bolt and the adapters report a failed event), by a logging handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot import __version__
from bot.core.reply import ReplyKind
from bot.core.service import Asked, BotService
from bot.storage.writer import StoreWriter

PREFIX = "ketamine_bot"
# the core answers in milliseconds; anything near a second means the machine is overloaded
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# logger name prefixes -> platform, for counting platform errors from log records
PLATFORM_LOGGERS = {
    "slack": ("slack_bolt", "slack_sdk", "bot.adapters.slack"),
    "discord": ("discord", "bot.adapters.discord"),
}


class Metrics:
    """The bot's metrics; ``observe`` is a ``BotService`` listener, ``render`` the scrape."""

    def __init__(
        self,
        service: BotService,
        platforms: Iterable[str] = (),
        connected: Callable[[], Mapping[str, bool]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.questions = Counter(
            f"{PREFIX}_questions",
            "Member questions answered, by platform and reply kind",
            ("platform", "kind"),
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_answer_latency_seconds",
            "Time the core took to work out a reply (normalize, safety, match)",
            ("platform",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reload_failures = Counter(
            f"{PREFIX}_knowledge_reload_failures",
            "Knowledge-base reloads refused because the new files had problems",
            registry=self.registry,
        )
        self.platform_errors = Counter(
            f"{PREFIX}_platform_errors",
            "Errors reported by a platform's library or adapter (failed events, lost connections)",
            ("platform",),
            registry=self.registry,
        )
        self.registry.register(_StateCollector(service, connected or dict))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        # each series' child, looked up once: ``labels`` validates and locks on every call
        self._answered: dict[tuple[str, ReplyKind], tuple[Any, Any]] = {}
        for platform in platforms:  # show every series from the start, at 0
            self.platform_errors.labels(platform)
            for kind in ReplyKind:
                self._children(platform, kind)

    def observe(self, event: Asked) -> None:
        """Count one answered question (a ``BotService`` listener): two increments."""
        key = (event.platform, event.reply.kind)
        children = self._answered.get(key) or self._children(*key)
        children[0].inc()
        children[1].observe(event.seconds)

    def _children(self, platform: str, kind: ReplyKind) -> tuple[Any, Any]:
        """The question counter and latency histogram of one platform and reply kind."""
        children = (self.questions.labels(platform, kind.value), self.latency.labels(platform))
        self._answered[(platform, kind)] = children  # a race only builds the same pair twice
        return children

    def watch_storage(self, writer: StoreWriter) -> None:
        """Report the storage queue: records waiting, written, and lost (counted, logged)."""
        self.registry.register(_StorageCollector(writer))

    def count_reload_failure(self, *_: object) -> None:
        """Count one refused reload (accepts and ignores whatever the reloader reports)."""
        self.reload_failures.inc()

    def error_handler(self) -> logging.Handler:
        """A logging handler that counts ERROR records from platform loggers."""
        return _ErrorCounter(self.platform_errors)

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The scrape body and its content type, as the ``Accept`` header asks."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class _StateCollector(Collector):
    """Values read when scraped: knowledge base served now, connections, build."""

    def __init__(self, service: BotService, connected: Callable[[], Mapping[str, bool]]) -> None:
        self._service = service
        self._connected = connected

    def collect(self) -> Iterable[Metric]:
        knowledge = self._service.knowledge
        entries = GaugeMetricFamily(
            f"{PREFIX}_knowledge_entries", "Entries in the knowledge base being served"
        )
        entries.add_metric([], len(knowledge.entries))
        yield entries
        yield InfoMetricFamily(
            f"{PREFIX}_knowledge",
            "Version of the knowledge base being served",
            value={"version": knowledge.version},
        )
        connected = GaugeMetricFamily(
            f"{PREFIX}_platform_connected",
            "1 when the platform is connected and taking events",
            labels=("platform",),
        )
        for platform, up in sorted(self._connected().items()):
            connected.add_metric([platform], 1 if up else 0)
        yield connected
        yield InfoMetricFamily(
            f"{PREFIX}_build", "Version of the bot", value={"version": __version__}
        )


class _StorageCollector(Collector):
    """The storage writer's counts, read when scraped."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            f"{PREFIX}_storage_pending", "Records and votes queued, not yet written"
        )
        pending.add_metric([], self._writer.pending)
        yield pending
        written = CounterMetricFamily(
            f"{PREFIX}_storage_written", "Records and votes written to the database"
        )
        written.add_metric([], self._writer.written)
        yield written
        lost = CounterMetricFamily(
            f"{PREFIX}_storage_lost",
            "Records and votes not written (queue full, database failing, shutdown)",
        )
        lost.add_metric([], self._writer.lost)
        yield lost


class _ErrorCounter(logging.Handler):
    def __init__(self, counter: Counter) -> None:
        super().__init__(level=logging.ERROR)
        self._counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        for platform, prefixes in PLATFORM_LOGGERS.items():
            if record.name.startswith(prefixes):
                self._counter.labels(platform).inc()
                return
