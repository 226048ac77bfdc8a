"""``ketamine-bot run``: every configured platform in one process and one event loop.

Discord and Slack (HTTP or Socket Mode) run side by side, sharing one ``BotService``, one
store, one knowledge reloader, one set of metrics; with no platform configured the
console starts instead. Settings are checked before anything starts (one line per
problem, exit 2). SIGTERM or SIGINT: stop taking events, let the answers in flight
finish (``SHUTDOWN_TIMEOUT`` at most), close the connections, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.service import BotService
from bot.exitcodes import EXIT_CONFIG, EXIT_OK
from bot.settings import Settings, SettingsProblem

if TYPE_CHECKING:
    from bot.adapters.discord.config import DiscordSettings
    from bot.adapters.moderators import ModeratorSettings
    from bot.adapters.slack.settings import SlackSettings

__all__ = [
    "NO_PLATFORM",
    "Plan",
    "plan_run",
    "run",
    "serve",
    "shared_problems",
]

log = logging.getLogger("bot.runner")


@dataclass
class Plan:
    """What ``run`` will start, every setting checked."""

    settings: Settings
    platforms: list[str]
    slack: SlackSettings | None = None
    discord: DiscordSettings | None = None
    moderators: ModeratorSettings | None = None
    metrics_port: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # extra discord.py options (tests)


def plan_run(
    settings: Settings,
    platform: str | None = None,
    *,
    port: int | None = None,
    socket_mode: bool = False,
    metrics_port: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """Check every setting ``run`` needs; ``SettingsProblem`` lists each problem, prefixed.

    The adapters' own loaders check their variables, so the messages are the ones
    ``run slack`` and ``run discord`` have always printed.
    """
    environ = os.environ if environ is None else environ
    if platform == "console":
        return Plan(settings, [])
    platforms = [platform] if platform else settings.platforms()
    if socket_mode and not platform and "slack" not in platforms:
        platforms.insert(0, "slack")
    plan = Plan(settings, platforms, metrics_port=_pick(metrics_port, settings.metrics_port))
    problems: list[str] = []
    if "slack" in platforms:
        from bot.adapters.slack.settings import SettingsError
        from bot.adapters.slack.settings import load_settings as slack_settings

        try:
            plan.slack = slack_settings(settings, port=port, socket_mode=socket_mode)
        except SettingsError as error:
            problems.append(f"ketamine-bot run slack: {error}")
    if "discord" in platforms:
        from bot.adapters.discord.config import DiscordSettings
        from bot.adapters.discord.config import SettingsError as DiscordError

        try:
            # the Discord adapter still reads its variables itself (environ: the tests' own)
            plan.discord = DiscordSettings.from_environment(environ)
        except DiscordError as error:
            problems.append(f"ketamine-bot run discord: {error}")
    if platforms:
        problems.extend(shared_problems(plan))
    if problems:
        raise SettingsProblem(problems)
    return plan


def shared_problems(plan: Plan) -> list[str]:
    """Moderators, database URL and ports: settings every platform shares."""
    from bot.adapters.moderators import ModeratorSettings, ModeratorSettingsError
    from bot.storage import StorageError
    from bot.storage.config import storage_url

    problems = []
    try:
        plan.moderators = ModeratorSettings.from_environment(plan.settings.moderator_values())
    except ModeratorSettingsError as error:
        problems.append(f"ketamine-bot run: {error}")
    try:
        storage_url(plan.settings)
    except StorageError as error:
        problems.append(f"ketamine-bot run: {error}")
    slack_port = plan.slack.port if plan.slack and not plan.slack.socket_mode else None
    if plan.metrics_port and plan.metrics_port == slack_port:
        problems.append(
            "ketamine-bot run: METRICS_PORT must differ from the Slack port (the public port "
            "serves /healthz only; /metrics and /readyz stay on the internal listener)"
        )
    return problems


def _pick(option: int | None, setting: int | None) -> int | None:
    return option if option is not None else setting


NO_PLATFORM = (
    "ketamine-bot run: no platform is configured (set DISCORD_TOKEN, or SLACK_BOT_TOKEN with "
    "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN); use `ketamine-bot run console` for the console"
)


def run(
    service: BotService,
    settings: Settings,
    platform: str | None = None,
    port: int | None = None,
    socket_mode: bool = False,
    metrics_port: int | None = None,
    *,
    interactive: bool | None = None,
) -> int:
    """Run ``platform``, or every configured one; the exit code.

    With no platform configured the console starts only when asked (``run console``) or
    when a person is at a terminal; otherwise (compose, systemd) exit 2 with one line, so a
    restart policy shows a failing service instead of looping quietly.
    """
    try:
        plan = plan_run(
            settings, platform, port=port, socket_mode=socket_mode, metrics_port=metrics_port
        )
    except SettingsProblem as problem:
        for line in problem.lines:
            print(
                line if line.startswith("ketamine-bot") else f"ketamine-bot run: {line}",
                file=sys.stderr,
            )
        return EXIT_CONFIG
    if not plan.platforms:
        if interactive is None:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        if platform != "console" and not interactive:
            print(NO_PLATFORM, file=sys.stderr)
            return EXIT_CONFIG
        from bot.adapters.console import run_console

        return run_console(service)
    from bot.ops.logs import configure_logging

    configure_logging(
        log_format=settings.log_format, level=settings.log_level, secrets=settings.secrets()
    )
    # Everything loaded so far (libraries, the knowledge base) lives as long as the process:
    # keep full garbage collections from walking it again and again (event-loop pauses).
    gc.collect()
    gc.freeze()
    try:
        return asyncio.run(serve(service, plan))
    except KeyboardInterrupt:  # a platform without signal handlers
        return EXIT_OK


async def serve(service: BotService, plan: Plan, stop: asyncio.Event | None = None) -> int:
    """Run ``plan`` until ``stop`` is set (default: SIGINT/SIGTERM); the exit code."""
    from bot.ops.process import BotProcess

    return await BotProcess(service, plan).run(stop if stop is not None else _stop_on_signals())


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop(signum: int) -> None:
        if stop.is_set():
            log.warning(
                "%s again: still finishing the answers in flight", signal.Signals(signum).name
            )
        else:
            log.info("%s received: shutting down", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows; not main thread
            loop.add_signal_handler(signum, request_stop, signum)
    return stop
