"""Slack adapter: the bot's listeners for a slack-bolt ``AsyncApp``.

Add the bot to a Bolt app you already run::

    from slack_bolt.async_app import AsyncApp
    from bot.adapters.slack import attach

    app = AsyncApp(token=..., signing_secret=...)
    attach(app)  # or attach(app, service) to share one BotService with other adapters

Web API calls go through the app's own client, so its base URL (``SLACK_API_URL`` under
``ketamine-bot run``), proxy, session and retry handlers apply. ``ketamine-bot run slack``
builds its app and calls ``attach`` the same way (``bot.adapters.slack.runner``).
"""

from __future__ import annotations

import os

from slack_bolt.async_app import AsyncApp

from bot.adapters.moderators import Moderation, ModeratorSettings
from bot.adapters.slack.handlers import KETAMINE_COMMAND, SOURCES_COMMAND, SlackAdapter
from bot.adapters.slack.moderation import RELOAD_COMMAND, UNANSWERED_COMMAND
from bot.core.service import BotService

__all__ = [
    "KETAMINE_COMMAND",
    "RELOAD_COMMAND",
    "SOURCES_COMMAND",
    "UNANSWERED_COMMAND",
    "SlackAdapter",
    "attach",
]


def attach(
    app: AsyncApp,
    service: BotService | None = None,
    *,
    moderation: Moderation | None = None,
) -> SlackAdapter:
    """Attach every listener to ``app``; return the adapter (``await adapter.idle()`` drains it).

    ``service`` is the ``BotService`` to answer from; ``None`` loads the default knowledge
    base (``KNOWLEDGE_DIR`` when set, else the shipped ``knowledge/``). The listeners claim
    ``app_mention``, ``message`` events in DMs, ``app_home_opened``, ``/ketamine``,
    ``/ketamine-sources`` and the bot's own buttons (share, suggestions, votes and the
    check-in's two answers); register your own DM listeners first if the app has any.
    The app must run in a long-lived process (an HTTP server or Socket Mode): answers are
    sent after the ack, from tasks.

    ``moderation`` (see ``bot.adapters.moderators``) holds the moderator settings, the
    store for votes and the unanswered queue, and the shared reloader; ``None`` reads the
    ``MOD_*`` settings from the environment, with no store and a reloader of its own. The
    moderator commands are ``/ketamine-reload`` and ``/ketamine-unanswered``.
    """
    if moderation is None:
        moderation = Moderation(ModeratorSettings.from_environment(os.environ))
    adapter = SlackAdapter(
        service if service is not None else BotService.from_directory(), moderation
    )
    adapter.register(app)
    return adapter
