"""Slack listeners: each request becomes one core call and one rendered reply.

No matching or safety logic lives here: the core's ``Reply`` decides what to say. This
module decides only *where* a reply may go, and that is the product's privacy promise: a
crisis reply goes to the member alone (a DM, or an ephemeral message), never where the
channel sees it, and never together with an answer. A check-in goes privately too, with
only a neutral pointer in the channel; the answer the member would have had is posted
where they asked only after they say they were asking about something else. Member text
is echoed only back to the member, privately; the bot never repeats a member's words in
public, and never puts them in a button.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.moderators import Moderation
from bot.adapters.rendered import Renders
from bot.adapters.slack.delivery import Outbox
from bot.adapters.slack.moderation import ModeratorListeners
from bot.adapters.slack.render import (
    OTHER_ACTION,
    SHARE_ACTION,
    SUGGESTION_ACTION,
    SUPPORT_ACTION,
    CheckInOrigin,
    Message,
    render_home,
    render_message,
    render_notice,
    render_shared,
)
from bot.adapters.slack.settings import SEEN_EVENTS
from bot.adapters.slack.work import SeenEvents, WorkTracker
from bot.core.cooldown import Verdict
from bot.core.reload import KnowledgeReloader
from bot.core.reply import OTHER, SUPPORT, Reply, ReplyKind
from bot.core.responder import Responder
from bot.core.service import BotService, Outcome
from bot.knowledge.schema import InterfaceTexts

KETAMINE_COMMAND = "/ketamine"
SOURCES_COMMAND = "/ketamine-sources"
NO_PREVIEWS = {"unfurl_links": False, "unfurl_media": False}

Body = dict[str, Any]


class SlackAdapter(ModeratorListeners):
    """The bot's listeners on one Bolt app, answering from one shared ``BotService``.

    ``moderation`` holds who the moderators are, the store for votes and the unanswered
    queue, and the reloader shared with other adapters (see ``bot.adapters.moderators``).
    """

    def __init__(self, service: BotService, moderation: Moderation | None = None) -> None:
        self.service = service
        self.moderation = moderation or Moderation()
        self.reloader = self.moderation.reloader or KnowledgeReloader(service)
        self.work = WorkTracker(service.pool)
        self._seen = SeenEvents(SEEN_EVENTS)
        self._alert_client = None
        self._renders: Renders[Message] = Renders()

    def register(self, app: AsyncApp) -> None:
        """Add every listener to ``app``; each acks at once and answers after.

        Bolt runs a listener in a task of its own after the ack unless the app processes
        before responding (``process_before_response``, for FaaS); only then does the
        answer need a task of its own, or the ack would wait for it.
        """
        self.work.inline = not app.process_before_response
        track = [_Reserve(self.work)]
        app.event("app_mention", middleware=track)(self._on_mention)
        app.event("message", matchers=[_is_direct_message], middleware=track)(self._on_message)
        app.event("app_home_opened", middleware=track)(self._on_home_opened)
        app.command(KETAMINE_COMMAND, middleware=track)(self._on_ketamine)
        app.command(SOURCES_COMMAND, middleware=track)(self._on_sources)
        app.action(SHARE_ACTION, middleware=track)(self._on_share)
        app.action(SUGGESTION_ACTION, middleware=track)(self._on_suggestion)
        app.action(SUPPORT_ACTION, middleware=track)(self._on_support)
        app.action(OTHER_ACTION, middleware=track)(self._on_something_else)
        self.register_moderator_listeners(app, track)

    async def idle(self, timeout: float | None = None) -> bool:
        """Wait until every acknowledged request has been answered (or ``timeout`` passes)."""
        return await self.work.wait_idle(timeout)

    # -- Bolt listeners: events are acked by Bolt before they run; the rest ack first -------

    async def _on_mention(
        self, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        self._remember_client(client)
        await self.work.carry_on(self._answer_mention(body, Outbox(client), context))

    async def _on_message(
        self, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        self._remember_client(client)
        await self.work.carry_on(self._answer_direct_message(body, Outbox(client), context))

    async def _on_home_opened(self, body: Body, client: AsyncWebClient) -> None:
        await self.work.carry_on(self._publish_home(body, Outbox(client)))

    async def _on_ketamine(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._ack_then(ack, self._answer_command(body, Outbox(client), context))

    async def _on_sources(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await self._ack_then(ack, self._list_sources(body, Outbox(client)))

    async def _on_share(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._ack_then(ack, self._share(body, Outbox(client), context))

    async def _on_suggestion(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await self._ack_then(ack, self._pick_suggestion(body, Outbox(client)))

    async def _on_support(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        self._remember_client(client)
        await self._ack_then(ack, self._give_support(body, Outbox(client), context))

    async def _on_something_else(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        await self._ack_then(ack, self._answer_after_check_in(body, Outbox(client)))

    async def _ack_then(self, ack: AsyncAck, work: Coroutine[Any, Any, None]) -> None:
        """Ack with an empty body (nothing shows in the channel), then answer."""
        try:
            await ack()
        except BaseException:
            work.close()
            self.work.release()
            raise
        await self.work.carry_on(work)

    # -- what each request gets ---------------------------------------------------------------

    async def _answer_mention(self, body: Body, outbox: Outbox, context: AsyncBoltContext) -> None:
        """Answer in the mention's thread; a crisis reply goes to the member privately."""
        event = body.get("event") or {}
        if not _from_member(event, context) or not await self._seen.claim(body.get("event_id")):
            return
        responder = self.service.responder  # read once: a reload swaps it whole
        texts = responder.knowledge.replies.interface
        user, channel, ts = event["user"], event["channel"], event.get("ts")
        in_thread = event.get("thread_ts")
        feedback = self.feedback_labels(texts)

        def render(reply: Reply) -> Message:
            if reply.kind is ReplyKind.CRISIS:
                return self._render(reply, None)
            if reply.kind is ReplyKind.CHECK_IN:
                origin = CheckInOrigin("channel", channel, in_thread or ts, ts, reply.entry_id)
                return render_message(reply, check_in=origin)
            return self._render(reply, feedback)

        text = event.get("text") or ""
        outcome, message = await self.work.think(
            self._ask_and_render, responder, context, user, text, render
        )
        reply = outcome.reply
        if reply is None or message is None:
            await self._tell_cooled_down(outbox, outcome, texts, user, channel, in_thread)
            return
        if reply.kind is ReplyKind.CRISIS:
            await self._send_crisis_privately(outbox, message, texts, user, channel, in_thread)
            await self.alert_crisis(outbox, context, user, channel, ts)
            return
        if reply.kind is ReplyKind.CHECK_IN:
            pointer = responder.knowledge.safety.check_in.public_pointer
            await self._check_in_privately(outbox, message, channel, pointer, user, in_thread)
            return
        await outbox.post(channel, message, thread_ts=in_thread or ts)

    async def _answer_direct_message(
        self, body: Body, outbox: Outbox, context: AsyncBoltContext
    ) -> None:
        """Answer in the DM (in the member's thread if they wrote in one)."""
        event = body.get("event") or {}
        if not _from_member(event, context) or not await self._seen.claim(body.get("event_id")):
            return
        responder = self.service.responder
        texts = responder.knowledge.replies.interface
        user, channel = event["user"], event["channel"]
        in_thread = event.get("thread_ts")
        feedback = self.feedback_labels(texts)

        def render(reply: Reply) -> Message:
            if reply.kind is ReplyKind.CHECK_IN:  # a DM is private already: ask right here
                check_in = CheckInOrigin("dm", channel, in_thread, entry_id=reply.entry_id)
                return render_message(reply, feedback=feedback, check_in=check_in)
            return self._render(reply, feedback)

        text = event.get("text") or ""
        outcome, message = await self.work.think(
            self._ask_and_render, responder, context, user, text, render
        )
        if message is None:
            await self._tell_cooled_down(outbox, outcome, texts, user, channel, in_thread)
            return
        await outbox.post(channel, message, thread_ts=in_thread)

    async def _tell_cooled_down(
        self,
        outbox: Outbox,
        outcome: Outcome,
        texts: InterfaceTexts,
        user: str,
        channel: str,
        in_thread: str | None,
    ) -> None:
        """A member inside their cooldown: tell them privately once, then stay quiet."""
        if outcome.cooldown is Verdict.WARN:
            notice = render_notice(texts.cooldown)
            await outbox.post_ephemeral(channel, user, notice, thread_ts=in_thread)

    def _render(self, reply: Reply, feedback: tuple[str, str] | None) -> Message:
        """``render_message(reply, feedback=feedback)``, made once for replies that repeat.

        Shared by every request: whoever sends it copies it (``Outbox``), never changes it.
        """
        return self._renders.get(reply, feedback, lambda: render_message(reply, feedback=feedback))

    def _ask_and_render(
        self,
        responder: Responder,
        context: AsyncBoltContext,
        user: str,
        text: str,
        render: Callable[[Reply], Message],
    ) -> tuple[Outcome, Message | None]:
        """The core's reply (or the cooldown that held it back) and ``render`` of it.

        Both are CPU work, so both run here, in a worker thread: the event loop only
        receives, acks and sends.
        """
        outcome = self.service.ask(
            text, platform="slack", member=member_key(context, user), responder=responder
        )
        return outcome, None if outcome.reply is None else render(outcome.reply)

    async def _send_crisis_privately(
        self,
        outbox: Outbox,
        message: Message,
        texts: InterfaceTexts,
        user: str,
        channel: str,
        in_thread: str | None,
    ) -> None:
        """Resources in a DM plus a private pointer to it; if the DM fails, an ephemeral."""
        if await outbox.post(user, message):  # a user id as channel: the bot's DM with them
            notice = render_notice(texts.crisis_sent_privately)
            await outbox.post_ephemeral(channel, user, notice, thread_ts=in_thread)
        else:
            await outbox.post_ephemeral(channel, user, message, thread_ts=in_thread)

    async def _check_in_privately(
        self,
        outbox: Outbox,
        message: Message,
        channel: str,
        pointer: str,
        user: str,
        in_thread: str | None,
    ) -> None:
        """Check in by DM, with a neutral pointer in the channel (if the DM fails: ephemeral).

        Nothing public happens until the member has chosen.
        """
        if await outbox.post(user, message):
            notice = render_notice(pointer)
            await outbox.post_ephemeral(channel, user, notice, thread_ts=in_thread)
        else:
            await outbox.post_ephemeral(channel, user, message, thread_ts=in_thread)

    async def _answer_command(self, body: Body, outbox: Outbox, context: AsyncBoltContext) -> None:
        """``/ketamine QUESTION``: a private answer with a share button; help when empty."""
        responder = self.service.responder
        texts = responder.knowledge.replies.interface
        url = body.get("response_url")
        question = (body.get("text") or "").strip()
        if not question:
            await outbox.respond(url, _ephemeral(render_message(responder.help())))
            return
        user, channel = body.get("user_id", ""), body.get("channel_id", "")
        feedback = self.feedback_labels(texts)

        def render(reply: Reply) -> Message:
            check_in = None
            if reply.kind is ReplyKind.CHECK_IN:  # the command's answer is private already
                check_in = CheckInOrigin("command", channel, entry_id=reply.entry_id)
            share = texts.share_button
            return render_message(
                reply, share_label=share, echo=True, feedback=feedback, check_in=check_in
            )

        outcome, message = await self.work.think(
            self._ask_and_render, responder, context, user, question, render
        )
        if message is None:
            if outcome.cooldown is Verdict.WARN:
                await outbox.respond(url, _ephemeral(render_notice(texts.cooldown)))
            return
        await outbox.respond(url, _ephemeral(message))

    async def _list_sources(self, body: Body, outbox: Outbox) -> None:
        """``/ketamine-sources``: every source with its link, privately."""
        reply = self.service.responder.sources()
        await outbox.respond(body.get("response_url"), _ephemeral(render_message(reply)))

    async def _share(self, body: Body, outbox: Outbox, context: AsyncBoltContext) -> None:
        """Post the answer publicly for everyone, then remove the private copy."""
        responder = self.service.responder
        texts = responder.knowledge.replies.interface
        url = body.get("response_url")
        user = (body.get("user") or {}).get("id", "")
        try:
            reply = responder.answer(_action_value(body))
        except KeyError:  # the entry left the knowledge base since the button was drawn
            message = render_message(responder.help())
            await outbox.respond(url, {"replace_original": True, **_ephemeral(message)})
            return
        verdict = await asyncio.to_thread(self.service.cooldown.check, member_key(context, user))
        if verdict is Verdict.WARN:
            notice = render_notice(texts.cooldown)
            await outbox.respond(url, {"replace_original": False, **_ephemeral(notice)})
        if verdict is not Verdict.ALLOW:
            return
        shared = render_shared(reply, user, texts.shared_by, feedback=self.feedback_labels(texts))
        public = {"response_type": "in_channel", "replace_original": False, **shared}
        if await outbox.respond(url, {**public, **NO_PREVIEWS}):
            await outbox.respond(url, {"delete_original": True})

    async def _pick_suggestion(self, body: Body, outbox: Outbox) -> None:
        """Answer the picked entry in place of the message that offered it."""
        responder = self.service.responder
        texts = responder.knowledge.replies.interface
        private = bool((body.get("container") or {}).get("is_ephemeral"))
        try:
            reply = responder.answer(_action_value(body))
        except KeyError:  # the entry left the knowledge base since the button was drawn
            reply = responder.help()
        message = render_message(
            reply,
            share_label=texts.share_button if private else None,
            feedback=self.feedback_labels(texts),
        )
        payload = {"replace_original": True, **message, **NO_PREVIEWS}
        await outbox.respond(body.get("response_url"), payload)

    async def _give_support(self, body: Body, outbox: Outbox, context: AsyncBoltContext) -> None:
        """Answer "Yes, I'd like support": the crisis reply in place of the check-in, and the alert.

        The moderators hear of it (a link, never the text) only for a question asked in a
        channel, as for any crisis reply, and no more often than ``service.alerts`` allows.
        """
        user = (body.get("user") or {}).get("id", "")
        origin = CheckInOrigin.from_value(_action_value(body))
        reply = self.service.responder.after_check_in(SUPPORT, None)
        message = render_message(reply)
        replaced = {"replace_original": True, **message, **NO_PREVIEWS}
        delivered = await outbox.respond(body.get("response_url"), replaced)
        if not delivered and not await outbox.post(user, message):  # the DM, then an ephemeral
            await outbox.post_ephemeral(_clicked_in(body), user, message)
        if origin is not None and origin.where == "channel":
            await self.alert_crisis(outbox, context, user, origin.channel, origin.message_ts)

    async def _answer_after_check_in(self, body: Body, outbox: Outbox) -> None:
        """Answer "No, I was asking about something else": the ordinary answer, where asked.

        Asked in a channel: posted publicly in that thread, as any answer, and the check-in
        is removed; asked in a DM or through ``/ketamine``: in place of the check-in.
        """
        responder = self.service.responder
        texts = responder.knowledge.replies.interface
        url = body.get("response_url")
        feedback = self.feedback_labels(texts)
        origin = CheckInOrigin.from_value(_action_value(body))
        if origin is None:  # not a button this bot drew: say what it can do, privately
            message = render_message(responder.help())
            await outbox.respond(url, {"replace_original": True, **message})
            return
        reply = responder.after_check_in(OTHER, origin.entry_id)
        if origin.where == "channel":
            message = render_message(reply, feedback=feedback)
            if await outbox.post(origin.channel, message, thread_ts=origin.thread_ts):
                await outbox.respond(url, {"delete_original": True})
            return
        share = texts.share_button if origin.where == "command" else None
        message = render_message(reply, share_label=share, feedback=feedback)
        await outbox.respond(url, {"replace_original": True, **message, **NO_PREVIEWS})

    async def _publish_home(self, body: Body, outbox: Outbox) -> None:
        """Publish the App Home tab each time a member opens it (it is per member)."""
        event = body.get("event") or {}
        if event.get("tab") != "home" or not event.get("user"):
            return
        if not await self._seen.claim(body.get("event_id")):
            return
        responder = self.service.responder
        pointer = responder.knowledge.replies.interface.crisis_public_pointer
        view = render_home(responder.help(), responder.sources(), pointer)
        await outbox.publish_home(event["user"], view)


class _Reserve(AsyncMiddleware):
    """Listener middleware: count a request as in flight before Bolt acks it.

    A plain ``AsyncMiddleware`` rather than a function, so Bolt spends no time building
    keyword arguments for it on every request.
    """

    def __init__(self, work: WorkTracker) -> None:
        self._work = work

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[Any]],  # the name Bolt passes it by
    ) -> BoltResponse:
        self._work.reserve()
        await next()
        return resp


def member_key(context: AsyncBoltContext, user: str) -> str:
    """Build the cooldown key from platform, workspace (or org) and user: ``slack:T1:U2``."""
    workspace = context.team_id or context.enterprise_id or "-"
    return f"slack:{workspace}:{user}"


async def _is_direct_message(event: Body) -> bool:
    """Claim every event in a DM (edits too, to ignore them); leave channels to the host app."""
    return event.get("channel_type") == "im"


def _from_member(event: Body, context: AsyncBoltContext) -> bool:
    """Tell whether a person wrote this now: not a bot (this one or another), edit or subtype."""
    return bool(
        event.get("user")
        and event.get("channel")
        and not event.get("bot_id")
        and not event.get("subtype")
        and "edited" not in event
        and event.get("user") != context.bot_user_id
    )


def _clicked_in(body: Body) -> str:
    """The conversation holding the message whose button was clicked."""
    container = body.get("container") or {}
    return str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))


def _action_value(body: Body) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _ephemeral(message: Message) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message}
