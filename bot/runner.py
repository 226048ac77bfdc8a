"""``ketamine-bot run``: start the platforms whose settings are present, else the console."""

from __future__ import annotations

import os
import sys

from bot.core.service import BotService

EXIT_CONFIG = 2


def configured_platforms() -> list[str]:
    """Platforms whose tokens are in the environment."""
    platforms = []
    if os.environ.get("SLACK_BOT_TOKEN") or os.environ.get("SLACK_SIGNING_SECRET"):
        platforms.append("slack")
    if os.environ.get("DISCORD_TOKEN"):
        platforms.append("discord")
    return platforms


def run(
    service: BotService,
    platform: str | None,
    port: int | None = None,
    socket_mode: bool = False,
) -> int:
    """Run one platform, or whichever is configured; the console when none is."""
    if platform is None:
        platforms = configured_platforms()
        if len(platforms) > 1:
            print(
                "ketamine-bot run: both Slack and Discord are configured; "
                "start them separately with 'run slack' and 'run discord'",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        platform = platforms[0] if platforms else "console"
    if platform == "slack":
        from bot.adapters.slack.runner import run_slack

        return run_slack(service, port=port, socket_mode=socket_mode)
    if platform == "discord":
        from bot.adapters.discord.runner import run_discord

        return run_discord(service)
    from bot.adapters.console import run_console

    return run_console(service)
