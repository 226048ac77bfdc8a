"""Moderators on Slack: ``/ketamine-reload``, ``/ketamine-unanswered``, votes and alerts.

``ModeratorListeners`` is mixed into ``SlackAdapter``. A moderator is a member listed in
``MOD_USER_IDS`` or in the user group ``MOD_USERGROUP_ID`` (asked of Slack on each command,
so a change to the group counts at once). Everyone else gets a polite private refusal.
Replies to moderators are ephemeral; alerts go to the alert channel only when one is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.moderators import (
    UNANSWERED_LIMIT,
    Moderation,
    days_from,
    fill,
    problem_lines,
    reload_summary,
    unanswered_line,
    unanswered_title,
)
from bot.adapters.slack.delivery import Outbox
from bot.adapters.slack.render import (
    HELPFUL_ACTION,
    TEXT_LIMIT,
    VOTE_ACTION,
    Message,
    escape,
    render_notice,
)
from bot.adapters.slack.work import WorkTracker
from bot.core.reload import KnowledgeReloader, ReloadResult
from bot.core.service import BotService
from bot.knowledge.schema import InterfaceTexts

RELOAD_COMMAND = "/ketamine-reload"
UNANSWERED_COMMAND = "/ketamine-unanswered"

Body = dict[str, Any]
log = logging.getLogger("bot.adapters.slack")


def reload_message(result: ReloadResult, texts: InterfaceTexts) -> Message:
    """One line, then the problems as ``file:line: message`` in a code block."""
    summary = escape(reload_summary(result, texts))
    if not result.problems:
        return {"text": summary}
    problems = "\n".join(escape(line) for line in problem_lines(result))
    text = f"{summary}\n```\n{problems}\n```"
    return {"text": text[:TEXT_LIMIT]}


def unanswered_message(texts: InterfaceTexts, days: int, groups: Sequence[Any]) -> Message:
    """The heading, then one numbered line per group (member wording escaped)."""
    lines = [f"*{escape(unanswered_title(texts, days, groups))}*"]
    lines += [
        f"{number}. {escape(unanswered_line(texts, group))}"
        for number, group in enumerate(groups, start=1)
    ]
    return {"text": "\n".join(lines)[:TEXT_LIMIT]}


def ephemeral(message: Message) -> dict[str, Any]:
    """A response_url payload only the person who acted sees, leaving the original alone."""
    return {"response_type": "ephemeral", "replace_original": False, **message}


class ModeratorListeners:
    """The moderator half of ``SlackAdapter`` (see the module docstring)."""

    service: BotService
    moderation: Moderation
    reloader: KnowledgeReloader
    work: WorkTracker
    _alert_client: AsyncWebClient | None

    # SlackAdapter's: ack at once with an empty body, then answer in a tracked task
    _ack_then: Callable[[AsyncAck, Coroutine[Any, Any, None]], Awaitable[None]]

    def register_moderator_listeners(self, app: AsyncApp, track: list[AsyncMiddleware]) -> None:
        """Add the moderator commands and the vote buttons to ``app``."""
        app.command(RELOAD_COMMAND, middleware=track)(self._on_reload)
        app.command(UNANSWERED_COMMAND, middleware=track)(self._on_unanswered)
        app.action(VOTE_ACTION, middleware=track)(self._on_vote)
        if app.client.token:  # otherwise the first request's client (Bolt gives it the token)
            self._alert_client = app.client
        self.reloader.listeners.append(self.tell_moderators_about_reload)

    def feedback_labels(self, texts: InterfaceTexts) -> tuple[str, str] | None:
        """The vote buttons' labels, or ``None`` when votes are not kept (no store)."""
        if self.moderation.store is None:
            return None
        return texts.helpful_button, texts.not_helpful_button

    def _texts(self) -> InterfaceTexts:
        return self.service.responder.knowledge.replies.interface

    def _remember_client(self, client: AsyncWebClient) -> None:
        if self._alert_client is None and client.token:
            self._alert_client = client

    # -- Bolt listeners ---------------------------------------------------------------------

    async def _on_reload(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        self._remember_client(client)
        await self._ack_then(ack, self._reload(body, Outbox(client)))

    async def _on_unanswered(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        self._remember_client(client)
        await self._ack_then(ack, self._list_unanswered(body, Outbox(client)))

    async def _on_vote(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        self._remember_client(client)
        await self._ack_then(ack, self._vote(body, Outbox(client), context))

    # -- what each request gets ---------------------------------------------------------------

    async def is_moderator(self, outbox: Outbox, user: str) -> bool:
        """Listed in ``MOD_USER_IDS``, or in the ``MOD_USERGROUP_ID`` user group now."""
        settings = self.moderation.settings
        if not user:
            return False
        if user in settings.slack_user_ids:
            return True
        if settings.slack_usergroup_id is None:
            return False
        members = await outbox.usergroup_members(settings.slack_usergroup_id)
        return members is not None and user in members

    async def _reload(self, body: Body, outbox: Outbox) -> None:
        """``/ketamine-reload``: reload now; entry count and version, or every problem."""
        url = body.get("response_url")
        if not await self.is_moderator(outbox, body.get("user_id", "")):
            await outbox.respond(url, ephemeral(render_notice(self._texts().moderators_only)))
            return
        result = await self.reloader.reload()
        texts = result.knowledge.replies.interface  # the new texts, when the reload took
        await outbox.respond(url, ephemeral(reload_message(result, texts)))

    async def _list_unanswered(self, body: Body, outbox: Outbox) -> None:
        """``/ketamine-unanswered [days]``: the most asked questions without an answer."""
        url = body.get("response_url")
        texts = self._texts()
        if not await self.is_moderator(outbox, body.get("user_id", "")):
            await outbox.respond(url, ephemeral(render_notice(texts.moderators_only)))
            return
        store = self.moderation.store
        if store is None:
            await outbox.respond(url, ephemeral(render_notice(texts.unanswered_off)))
            return
        days = days_from(body.get("text"))
        groups = await asyncio.to_thread(store.unanswered, days=days, limit=UNANSWERED_LIMIT)
        await outbox.respond(url, ephemeral(unanswered_message(texts, days, groups)))

    async def _vote(self, body: Body, outbox: Outbox, context: AsyncBoltContext) -> None:
        """Keep the member's vote on this answer message (a new click replaces it); thank them."""
        store = self.moderation.store
        user = (body.get("user") or {}).get("id", "")
        action = (body.get("actions") or [{}])[0]
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        message_ts = container.get("message_ts")
        entry_id = str(action.get("value") or "")
        if store is not None and user and message_ts and entry_id:
            workspace = context.team_id or context.enterprise_id or "-"
            try:
                await asyncio.to_thread(
                    store.vote,
                    member=f"slack:{workspace}:{user}",
                    message_ref=f"{channel}:{message_ts}",
                    entry_id=entry_id,
                    helpful=action.get("action_id") == HELPFUL_ACTION,
                )
            except Exception:  # a lost vote must not leave the click unanswered
                log.exception("Slack: could not keep a vote")
        thanks = render_notice(self._texts().vote_thanks)
        await outbox.respond(body.get("response_url"), ephemeral(thanks))

    # -- alerts to the moderators' channel ------------------------------------------------------

    async def alert_crisis(
        self, outbox: Outbox, context: AsyncBoltContext, user: str, channel: str, ts: str | None
    ) -> None:
        """Point moderators to a channel message that got the crisis reply: a link, no text.

        Called for channel mentions only (a crisis, or "yes, I'd like support" after a
        check-in): what a member writes to the bot in a DM (or through the private slash
        command) stays between them and the bot. ``service.alerts`` decides how often:
        one alert per member per window tells the moderators all that a second would.
        """
        alert_channel = self.moderation.settings.slack_alert_channel
        if alert_channel is None or not ts:
            return
        workspace = context.team_id or context.enterprise_id or "-"
        member, where = f"slack:{workspace}:{user}", f"slack:{workspace}:{channel}"
        # the gate may be shared through PostgreSQL: ask it off the event loop
        if not await asyncio.to_thread(self.service.alerts.allow, member, where):
            return
        permalink = await outbox.permalink(channel, ts)
        link = f"<{escape(permalink)}>" if permalink else f"<#{channel}>"
        text = fill(escape(self._texts().crisis_alert), link=link)
        await outbox.post(alert_channel, {"text": text})

    async def tell_moderators_about_reload(self, result: ReloadResult) -> None:
        """A reload listener: post what an edit on disk did (commands answer their caller)."""
        alert_channel = self.moderation.settings.slack_alert_channel
        if alert_channel is None or result.trigger != "watcher":
            return
        if self._alert_client is None:
            log.warning("Slack: no token to post the reload notice with yet; see the logs")
            return
        texts = result.knowledge.replies.interface
        await Outbox(self._alert_client).post(alert_channel, reload_message(result, texts))
