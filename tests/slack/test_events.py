"""Mentions, DMs and the App Home, through real Bolt over real HTTP, as Slack would see them."""

from __future__ import annotations

import json

from bot.adapters.slack.render import render_blocks, render_home, render_text
from bot.core.cooldown import Cooldown, Verdict
from tests.slack.conftest import SlackHarness
from tests.slack.fake_slack import BOT_ID, BOT_USER_ID
from tests.slack.slack_requests import (
    CHANNEL,
    DM_CHANNEL,
    MEMBER,
    direct_message,
    home_opened,
    mention,
    next_ts,
    sign,
)

STUDY_LINK = (
    "<https://doi.org/10.1177/02698811241286726|"
    "MacConnel, Earleywine &amp; Radowitz (2024), Journal of Psychopharmacology>"
)
NO_PREVIEWS = {"unfurl_links": False, "unfurl_media": False}


def posted(slack: SlackHarness, channel: str, reply_text: str, *, thread_ts: str | None) -> dict:
    """The exact chat.postMessage body for ``reply_text`` answered by the core."""
    reply = slack.service.responder.respond(reply_text)
    body = {"channel": channel, "text": render_text(reply), "blocks": render_blocks(reply)}
    if thread_ts:
        body["thread_ts"] = thread_ts
    return {**body, **NO_PREVIEWS, "team_id": "T123"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingCooldown(Cooldown):
    def __init__(self, seconds: float, clock: FakeClock) -> None:
        super().__init__(seconds, clock)
        self.keys: list[str] = []

    def check(self, member: str) -> Verdict:
        self.keys.append(member)
        return super().check(member)


async def test_mention_is_answered_in_a_new_thread_with_citation_and_disclaimer(slack):
    event = mention("how fast does ketamine work?")
    await slack.send_event(event)
    await slack.settle()

    assert [call.method for call in slack.fake.deliveries] == ["chat.postMessage"]
    body = slack.fake.bodies("chat.postMessage")[0]
    assert body == posted(slack, CHANNEL, "how fast does ketamine work?", thread_ts=event["ts"])
    blocks = json.dumps(body["blocks"])
    assert STUDY_LINK in blocks
    assert "Not medical advice" in blocks
    assert (
        "MacConnel, Earleywine &amp; Radowitz (2024), Journal of Psychopharmacology"
        " https://doi.org/10.1177/02698811241286726" in body["text"]
    )
    assert body["text"].endswith(slack.service.knowledge.replies.disclaimer)
    assert slack.fake.deliveries[0].token == "xoxb-1111-2222-testtoken"


async def test_mention_inside_a_thread_is_answered_in_that_thread(slack):
    parent = next_ts()
    await slack.send_event(mention("how long is a ketamine session", thread_ts=parent))
    await slack.settle()
    assert slack.fake.bodies("chat.postMessage") == [
        posted(slack, CHANNEL, "how long is a ketamine session", thread_ts=parent)
    ]


async def test_direct_message_is_answered_in_the_dm(slack):
    await slack.send_event(direct_message("what are the side effects"))
    await slack.settle()
    assert slack.fake.bodies("chat.postMessage") == [
        posted(slack, DM_CHANNEL, "what are the side effects", thread_ts=None)
    ]


async def test_direct_message_in_a_thread_is_answered_in_that_thread(slack):
    parent = next_ts()
    await slack.send_event(direct_message("what are the side effects", thread_ts=parent))
    await slack.settle()
    assert slack.fake.bodies("chat.postMessage")[0]["thread_ts"] == parent


async def test_bots_edits_and_the_bots_own_messages_are_ignored(slack):
    ignored = [
        direct_message("what are the side effects", bot_id="B999"),
        direct_message("what are the side effects", subtype="bot_message"),
        direct_message("what are the side effects", user=BOT_USER_ID, bot_id=BOT_ID),
        direct_message("what are the side effects", subtype="message_changed"),
        direct_message("what are the side effects", edited={"user": MEMBER, "ts": next_ts()}),
        direct_message("what are the side effects", subtype="message_deleted"),
        {**mention("what are the side effects"), "bot_id": "B999"},
        {**mention("what are the side effects"), "edited": {"user": MEMBER, "ts": next_ts()}},
    ]
    for event in ignored:
        await slack.send_event(event)
    await slack.settle()
    assert slack.fake.deliveries == []


async def test_a_redelivered_event_is_answered_once(slack):
    event = mention("how fast does ketamine work?")
    envelope = await slack.send_event(event)
    body = json.dumps(envelope)  # Slack's retry: same event_id, with a retry header
    status, _ = await slack.post(
        body,
        {**sign(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        "application/json",
    )
    assert status == 200
    await slack.settle()
    assert len(slack.fake.bodies("chat.postMessage")) == 1


async def test_crisis_in_a_channel_goes_to_the_member_privately_and_nothing_public(slack):
    await slack.send_event(mention("i want to die"))
    await slack.settle()

    reply = slack.service.responder.respond("i want to die")
    texts = slack.service.knowledge.replies.interface
    assert [(call.method, call.body) for call in slack.fake.deliveries] == [
        (
            "chat.postMessage",  # to the member's user id: the bot's DM with them
            {
                "channel": MEMBER,
                "text": render_text(reply),
                "blocks": render_blocks(reply),
                **NO_PREVIEWS,
                "team_id": "T123",
            },
        ),
        (
            "chat.postEphemeral",
            {
                "channel": CHANNEL,
                "user": MEMBER,
                "text": texts.crisis_sent_privately,
                "team_id": "T123",
            },
        ),
    ]
    resources = reply.items
    assert resources and all(item.split(":")[0] in body_text(slack) for item in resources)


def body_text(slack: SlackHarness) -> str:
    return json.dumps(slack.fake.bodies("chat.postMessage")[0]["blocks"])


async def test_crisis_in_a_thread_never_reaches_the_thread(slack):
    parent = next_ts()
    await slack.send_event(mention("i want to die", thread_ts=parent))
    await slack.settle()
    assert [body["channel"] for body in slack.fake.bodies("chat.postMessage")] == [MEMBER]
    ephemeral = slack.fake.bodies("chat.postEphemeral")
    assert [(body["channel"], body["user"], body["thread_ts"]) for body in ephemeral] == [
        (CHANNEL, MEMBER, parent)
    ]


async def test_crisis_with_dms_closed_falls_back_to_an_ephemeral_with_the_resources(slack):
    slack.fake.fail(
        "chat.postMessage", error="cannot_dm_bot", when=lambda body: body["channel"] == MEMBER
    )
    await slack.send_event(mention("i want to die"))
    await slack.settle()
    reply = slack.service.responder.respond("i want to die")
    assert slack.fake.bodies("chat.postEphemeral") == [
        {
            "channel": CHANNEL,
            "user": MEMBER,
            "text": render_text(reply),
            "blocks": render_blocks(reply),
            "team_id": "T123",
        }
    ]
    assert [body["channel"] for body in slack.fake.bodies("chat.postMessage")] == [
        MEMBER
    ]  # the failed DM only


async def test_crisis_in_a_dm_is_answered_in_the_dm(slack):
    await slack.send_event(direct_message("i want to end my life"))
    await slack.settle()
    assert slack.fake.bodies("chat.postMessage") == [
        posted(slack, DM_CHANNEL, "i want to end my life", thread_ts=None)
    ]
    assert slack.fake.bodies("chat.postMessage")[0]["blocks"][1]["text"]["text"].startswith(
        "• United States"
    )


async def test_cooldown_warns_once_then_stays_quiet_but_never_holds_back_a_crisis(slack):
    clock = FakeClock()
    slack.service.cooldown = cooldown = RecordingCooldown(3, clock)

    for _ in range(3):
        await slack.send_event(mention("how fast does ketamine work?"))
        await slack.settle()
    await slack.send_event(mention("i want to die"))
    await slack.settle()
    clock.now += 3
    await slack.send_event(mention("what are the side effects"))
    await slack.settle()

    texts = slack.service.knowledge.replies.interface
    assert [(call.method, call.body["channel"]) for call in slack.fake.deliveries] == [
        ("chat.postMessage", CHANNEL),  # answered
        ("chat.postEphemeral", CHANNEL),  # slow down, once
        ("chat.postMessage", MEMBER),  # (third mention: silence) crisis: to the DM regardless
        ("chat.postEphemeral", CHANNEL),  # ... and the private pointer to it
        ("chat.postMessage", CHANNEL),  # cooled down: answered again
    ]
    assert slack.fake.deliveries[1].body == {
        "channel": CHANNEL,
        "user": MEMBER,
        "text": texts.cooldown,
        "team_id": "T123",
    }
    assert set(cooldown.keys) == {"slack:T123:U456"}


async def test_app_home_shows_what_the_bot_is_the_disclaimer_and_the_sources(slack):
    await slack.send_event(home_opened())
    await slack.send_event(home_opened(tab="messages"))  # the DM tab: nothing to publish
    await slack.settle()

    responder = slack.service.responder
    view = render_home(
        responder.help(),
        responder.sources(),
        slack.service.knowledge.replies.interface.crisis_public_pointer,
    )
    assert slack.fake.bodies("views.publish") == [
        {"user_id": MEMBER, "view": view, "team_id": "T123"}
    ]
    published = json.dumps(view)
    assert "Not medical advice" in published
    assert "<https://doi.org/10.1177/02698811241286726>" in published
    assert "Ask me about ketamine for PTSD" in published
    assert [call.method for call in slack.fake.deliveries] == ["views.publish"]


async def test_the_ack_never_waits_for_the_answer(slack):
    gate = slack.fake.hold("chat.postMessage")  # Slack's Web API is slow today
    await slack.send_event(mention("how fast does ketamine work?"))  # acked: HTTP 200 already
    await slack.fake.wait_for(lambda: len(slack.fake.bodies("chat.postMessage")) == 1)
    assert not await slack.adapter.idle(timeout=0.05)  # the answer is still on its way
    gate.set()
    await slack.settle()
    assert [call.status for call in slack.fake.deliveries] == [200]
