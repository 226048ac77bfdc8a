"""Metrics, the health server, the container probe, and reload failures counted live."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from bot.core.service import BotService
from bot.ops.health import Health, HealthServer
from bot.ops.metrics import Metrics
from bot.ops.probe import main as probe
from bot.ops.probe import probe_url
from bot.ops.process import BotProcess
from bot.runner import Plan
from bot.settings import Settings
from tests.conftest import KNOWLEDGE_DIR


def samples(metrics: Metrics) -> list[str]:
    body, content_type = metrics.render()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    return body.decode().splitlines()


def test_questions_latency_and_platform_errors_are_counted(service: BotService) -> None:
    metrics = Metrics(service, ["discord"], connected=lambda: {"discord": False})
    service.listeners.append(metrics.observe)
    question = next(iter(service.knowledge.entries.values())).question
    service.ask(question, platform="discord", member="discord:1")
    service.ask("hello?", platform="discord", member="discord:2")
    handler = metrics.error_handler()
    for name, level in [
        ("discord.client", logging.ERROR),  # "Ignoring exception in on_message"
        ("bot.adapters.discord.cog", logging.ERROR),
        ("slack_bolt.AsyncApp", logging.ERROR),
        ("discord.gateway", logging.WARNING),  # a warning is not an error
        ("bot.core.reload", logging.ERROR),  # not a platform
    ]:
        record = logging.LogRecord(name, level, __file__, 1, "failed", None, None)
        if handler.level <= level:
            handler.handle(record)

    lines = samples(metrics)
    assert 'ketamine_bot_questions_total{kind="answer",platform="discord"} 1.0' in lines
    assert (
        sum(
            line.startswith("ketamine_bot_questions_total{") and line.endswith(" 1.0")
            for line in lines
        )
        == 2
    )
    assert 'ketamine_bot_answer_latency_seconds_count{platform="discord"} 2.0' in lines
    assert 'ketamine_bot_platform_errors_total{platform="discord"} 2.0' in lines
    assert 'ketamine_bot_platform_errors_total{platform="slack"} 1.0' in lines
    assert 'ketamine_bot_platform_connected{platform="discord"} 0.0' in lines
    assert any(line.startswith("process_resident_memory_bytes ") for line in lines)


def test_openmetrics_when_the_scraper_asks(service: BotService) -> None:
    body, content_type = Metrics(service).render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.decode().endswith("# EOF\n")


async def test_probe_and_readiness_over_http(service: BotService) -> None:
    connected = {"discord": False}
    metrics = Metrics(service, ["discord"], connected=lambda: connected)
    health = Health(service, metrics, lambda: connected)
    server = HealthServer(health, "127.0.0.1", 0)
    await server.start()
    try:
        settings = Settings(_env_file=None, METRICS_PORT=server.port, PORT="1")
        assert await asyncio.to_thread(probe, [], settings) == 0
        assert await asyncio.to_thread(probe, ["/readyz"], settings) == 1  # 503: not connected
        connected["discord"] = True
        assert await asyncio.to_thread(probe, ["/readyz"], settings) == 0
        health.stopping = True
        assert await asyncio.to_thread(probe, ["/readyz"], settings) == 1
    finally:
        await server.stop()
    assert await asyncio.to_thread(probe, [], settings) == 1


def test_the_probe_asks_the_internal_listener_on_loopback_when_it_listens_everywhere() -> None:
    inside_compose = Settings(_env_file=None, METRICS_HOST="0.0.0.0", METRICS_PORT=9100)
    assert probe_url(inside_compose) == "http://127.0.0.1:9100/healthz"
    assert probe_url(Settings(_env_file=None, METRICS_HOST="10.0.0.5", METRICS_PORT=9100)) == (
        "http://10.0.0.5:9100/healthz"
    )
    public_only = Settings(_env_file=None, METRICS_PORT=None, PORT="8080")
    assert probe_url(public_only, "/healthz") == "http://127.0.0.1:8080/healthz"


async def test_a_refused_reload_is_counted_and_the_old_base_keeps_serving(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    service = BotService.from_directory(directory)
    version = service.knowledge.version
    settings = Settings(_env_file=None, STORAGE_PATH=str(tmp_path / "bot.sqlite3"))
    process = BotProcess(service, Plan(settings, []))
    stop = asyncio.Event()
    running = asyncio.create_task(process.run(stop))
    await asyncio.wait_for(process.ready.wait(), 10)
    assert process.reloader is not None
    await asyncio.wait_for(process.reloader.watching.wait(), 10)
    refused = asyncio.Event()
    process.reloader.listeners.append(lambda result: refused.set() if result.problems else None)

    (directory / "sources.yaml").write_text("sources: [this is: not valid\n")
    await asyncio.wait_for(refused.wait(), 10)

    assert "ketamine_bot_knowledge_reload_failures_total 1.0" in samples(process.metrics)
    assert service.knowledge.version == version
    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
