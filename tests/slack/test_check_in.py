"""The check-in on Slack: asked privately, answered where the member chose, alerts rate-limited.

Which real messages the trained detector is unsure about moves with every retraining, so
these tests answer from a copy of the knowledge base whose crisis detector checks in on
every message (its ``check_in`` threshold at 0, ``crisis`` at 1): the adapter's part, what
Slack receives, is then the same on every run. The phrase floor still catches a crisis.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack.render import render_blocks, render_text
from bot.core.reply import Reply, ReplyKind
from bot.core.service import BotService
from bot.knowledge import load_knowledge
from bot.storage import Store
from tests.slack.blocks import check_in_buttons
from tests.slack.conftest import SlackHarness
from tests.slack.fake_slack import TEAM_ID, Call, FakeSlack
from tests.slack.slack_requests import (
    CHANNEL,
    DM_CHANNEL,
    MEMBER,
    direct_message,
    mention,
    next_ts,
)
from tests.slack.test_moderation import ALERT_CHANNEL, alerts, moderation_for, serve

QUESTION = "how fast does ketamine work?"
ENTRY = "ketamine-speed"  # what QUESTION is answered with once the member says "no"
CRISIS_WORDS = "i want to kill myself"  # on the phrase floor: a crisis whatever the detector
NO_PREVIEWS = {"unfurl_links": False, "unfurl_media": False}


@pytest.fixture()
def slack_service(folder: Path) -> BotService:
    """The shipped knowledge, with a crisis detector that checks in on every message."""
    path = folder / "models" / "crisis.json"
    model = json.loads(path.read_text(encoding="utf-8"))
    model["thresholds"] = {**model["thresholds"], "crisis": 1.0, "check_in": 0.0}
    path.write_text(json.dumps(model), encoding="utf-8")
    return BotService(load_knowledge(folder))


@pytest.fixture()
async def mods(
    fake_slack: FakeSlack, slack_service: BotService, store: Store
) -> AsyncIterator[SlackHarness]:
    """A team's app with the bot attached, moderator alerts on and votes kept."""
    async for harness in serve(fake_slack, slack_service, moderation_for(slack_service, store)):
        yield harness


def check_in_reply(slack: SlackHarness, text: str = QUESTION) -> Reply:
    reply = slack.service.responder.respond(text)
    assert reply.kind is ReplyKind.CHECK_IN
    return reply


def buttons(value: dict[str, str]) -> dict[str, Any]:
    """The check-in's actions block, exactly as Slack must receive it."""
    return check_in_buttons(json.dumps(value, separators=(",", ":")))


def check_in_blocks(reply: Reply, value: dict[str, str]) -> list[dict[str, Any]]:
    """Title, warm message, resources, the question, the two buttons, the disclaimer."""
    blocks = render_blocks(reply)  # the check-in without buttons
    return [*blocks[:-1], buttons(value), blocks[-1]]


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["text"]["text"] for block in blocks if block["type"] == "section"]


def response_posts(slack: SlackHarness) -> list[Call]:
    return [call for call in slack.fake.calls if call.method == "response_url"]


def value_of(body: dict[str, Any]) -> str:
    actions = next(block for block in body["blocks"] if block["type"] == "actions")
    return actions["elements"][0]["value"]


# -- where the check-in goes ---------------------------------------------------------------


async def test_a_check_in_goes_to_the_dm_and_the_channel_sees_only_a_neutral_pointer(slack):
    event = mention(QUESTION)
    await slack.send_event(event)
    await slack.settle()

    reply = check_in_reply(slack)
    check_in = slack.service.knowledge.safety.check_in
    resources = slack.service.knowledge.safety.crisis.resources
    value = {"where": "channel", "channel": CHANNEL, "thread": event["ts"]}
    value |= {"message": event["ts"], "entry": ENTRY}
    assert [(call.method, call.body) for call in slack.fake.deliveries] == [
        (
            "chat.postMessage",  # to the member's user id: the bot's DM with them
            {
                "channel": MEMBER,
                "text": render_text(reply),
                "blocks": check_in_blocks(reply, value),
                **NO_PREVIEWS,
                "team_id": TEAM_ID,
            },
        ),
        (
            "chat.postEphemeral",
            {
                "channel": CHANNEL,
                "user": MEMBER,
                "text": check_in.public_pointer,
                "team_id": TEAM_ID,
            },
        ),
    ]
    dm = slack.fake.bodies("chat.postMessage")[0]
    assert sections(dm["blocks"])[:2] == [f"*{check_in.title}*", check_in.message]
    assert len(resources) == sections(dm["blocks"])[2].count("• ")
    assert sections(dm["blocks"])[3] == f"*{check_in.question}*"
    assert dm["text"].endswith(slack.service.knowledge.replies.disclaimer)
    assert "ketamine work" not in json.dumps(dm)  # the member's words are nowhere in it


async def test_a_check_in_in_a_thread_points_there_and_would_answer_there(slack):
    parent = next_ts()
    event = mention(QUESTION, thread_ts=parent)
    await slack.send_event(event)
    await slack.settle()
    assert json.loads(value_of(slack.fake.bodies("chat.postMessage")[0])) == {
        "where": "channel",
        "channel": CHANNEL,
        "thread": parent,
        "message": event["ts"],
        "entry": ENTRY,
    }
    [pointer] = slack.fake.bodies("chat.postEphemeral")
    assert pointer["thread_ts"] == parent


async def test_with_dms_closed_the_check_in_itself_is_an_ephemeral_in_the_channel(slack):
    slack.fake.fail(
        "chat.postMessage", error="cannot_dm_bot", when=lambda body: body["channel"] == MEMBER
    )
    event = mention(QUESTION)
    await slack.send_event(event)
    await slack.settle()

    reply = check_in_reply(slack)
    value = {"where": "channel", "channel": CHANNEL, "thread": event["ts"]}
    value |= {"message": event["ts"], "entry": ENTRY}
    assert slack.fake.bodies("chat.postEphemeral") == [
        {
            "channel": CHANNEL,
            "user": MEMBER,
            "text": render_text(reply),
            "blocks": check_in_blocks(reply, value),
            "team_id": TEAM_ID,
        }
    ]
    assert [body["channel"] for body in slack.fake.bodies("chat.postMessage")] == [MEMBER]


async def test_a_check_in_in_a_dm_is_asked_right_there(slack):
    parent = next_ts()
    await slack.send_event(direct_message(QUESTION, thread_ts=parent))
    await slack.settle()
    reply = check_in_reply(slack)
    value = {"where": "dm", "channel": DM_CHANNEL, "thread": parent, "entry": ENTRY}
    assert [(call.method, call.body) for call in slack.fake.deliveries] == [
        (
            "chat.postMessage",
            {
                "channel": DM_CHANNEL,
                "text": render_text(reply),
                "blocks": check_in_blocks(reply, value),
                "thread_ts": parent,
                **NO_PREVIEWS,
                "team_id": TEAM_ID,
            },
        )
    ]


async def test_a_check_in_through_the_command_is_the_private_answer_without_echo(slack):
    await slack.command("/ketamine", QUESTION, slack.fake.response_url("ask"))
    await slack.settle()
    reply = check_in_reply(slack)
    value = {"where": "command", "channel": CHANNEL, "entry": ENTRY}
    assert [call.body for call in slack.fake.deliveries] == [
        {
            "response_type": "ephemeral",
            "text": render_text(reply),
            "blocks": check_in_blocks(reply, value),
        }
    ]


async def test_no_cooldown_holds_back_a_check_in_or_a_crisis_reply(slack):
    slack.service.cooldown.check(f"slack:{TEAM_ID}:{MEMBER}")  # just answered: cooling down
    await slack.send_event(mention(QUESTION))
    await slack.settle()
    await slack.send_event(mention(CRISIS_WORDS))
    await slack.settle()

    crisis = slack.service.responder.respond(CRISIS_WORDS)
    assert crisis.kind is ReplyKind.CRISIS
    check_in = slack.service.knowledge.safety.check_in
    texts = slack.service.knowledge.replies.interface
    assert [
        (call.method, call.body["channel"], call.body["text"]) for call in slack.fake.deliveries
    ] == [
        ("chat.postMessage", MEMBER, render_text(check_in_reply(slack))),
        ("chat.postEphemeral", CHANNEL, check_in.public_pointer),
        ("chat.postMessage", MEMBER, render_text(crisis)),
        ("chat.postEphemeral", CHANNEL, texts.crisis_sent_privately),
    ]  # and no "slow down" notice


# -- "Yes, I'd like support" ---------------------------------------------------------------


async def click(slack: SlackHarness, action: str, value: str, name: str, **extra: Any) -> None:
    slack.fake.clear()
    await slack.click(action, value, slack.fake.response_url(name), **extra)
    await slack.settle()


async def test_yes_replaces_the_check_in_with_the_crisis_reply_and_alerts_moderators_once(mods):
    event = mention(QUESTION)
    await mods.send_event(event)
    await mods.settle()
    value = value_of(mods.fake.bodies("chat.postMessage")[0])

    await click(
        mods, "ketamine_check_in_support", value, "yes", channel=DM_CHANNEL, ephemeral=False
    )

    crisis = mods.service.responder.crisis()
    link = f"https://fake.slack.test/archives/{CHANNEL}/p{event['ts'].replace('.', '')}"
    assert [(call.method, call.body) for call in mods.fake.deliveries] == [
        (
            "response_url",
            {
                "replace_original": True,
                "text": render_text(crisis),
                "blocks": render_blocks(crisis),
                **NO_PREVIEWS,
            },
        ),
        ("chat.getPermalink", {"channel": CHANNEL, "message_ts": event["ts"], "team_id": TEAM_ID}),
        (
            "chat.postMessage",
            {
                "channel": ALERT_CHANNEL,
                "text": f"A member's message may show they are in crisis: <{link}> The bot has "
                "sent them crisis resources privately; nothing of what they wrote is copied "
                "here. If you can, please reach out to them.",
                **NO_PREVIEWS,
                "team_id": TEAM_ID,
            },
        ),
    ]
    assert sections(mods.fake.calls[0].body["blocks"])[1].startswith("• United States")

    # The same member again within the window: the resources again, no second alert.
    await click(
        mods, "ketamine_check_in_support", value, "again", channel=DM_CHANNEL, ephemeral=False
    )
    await mods.send_event(mention(CRISIS_WORDS))
    await mods.settle()
    assert [call.method for call in mods.fake.deliveries] == [
        "response_url",
        "chat.postMessage",  # the crisis reply, to the member's DM
        "chat.postEphemeral",  # and the private pointer to it
    ]
    assert alerts(mods.fake) == []


async def test_yes_after_a_check_in_in_a_dm_alerts_nobody(mods):
    await mods.send_event(direct_message(QUESTION))
    await mods.settle()
    value = value_of(mods.fake.bodies("chat.postMessage")[0])
    await click(
        mods, "ketamine_check_in_support", value, "yes", channel=DM_CHANNEL, ephemeral=False
    )
    crisis = mods.service.responder.crisis()
    assert [call.body for call in mods.fake.deliveries] == [
        {
            "replace_original": True,
            "text": render_text(crisis),
            "blocks": render_blocks(crisis),
            **NO_PREVIEWS,
        }
    ]


async def test_yes_with_an_expired_check_in_still_brings_the_resources_to_the_dm(slack):
    await slack.send_event(mention(QUESTION))
    await slack.settle()
    value = value_of(slack.fake.bodies("chat.postMessage")[0])
    slack.fake.fail("response_url", status=404, error="expired_url")
    await click(
        slack, "ketamine_check_in_support", value, "old", channel=DM_CHANNEL, ephemeral=False
    )
    crisis = slack.service.responder.crisis()
    assert slack.fake.bodies("chat.postMessage") == [
        {
            "channel": MEMBER,
            "text": render_text(crisis),
            "blocks": render_blocks(crisis),
            **NO_PREVIEWS,
            "team_id": TEAM_ID,
        }
    ]


# -- "No, I was asking about something else" ---------------------------------------------------


async def test_no_posts_the_answer_in_the_channel_thread_with_feedback_and_removes_the_check_in(
    mods,
):
    event = mention(QUESTION)
    await mods.send_event(event)
    await mods.settle()
    value = value_of(mods.fake.bodies("chat.postMessage")[0])

    await click(mods, "ketamine_check_in_other", value, "no", channel=DM_CHANNEL, ephemeral=False)

    answer = mods.service.responder.answer(ENTRY)
    texts = mods.service.knowledge.replies.interface
    feedback = (texts.helpful_button, texts.not_helpful_button)
    assert [(call.method, call.body) for call in mods.fake.deliveries] == [
        (
            "chat.postMessage",
            {
                "channel": CHANNEL,
                "text": render_text(answer),
                "blocks": render_blocks(answer, feedback=feedback),
                "thread_ts": event["ts"],
                **NO_PREVIEWS,
                "team_id": TEAM_ID,
            },
        ),
        ("response_url", {"delete_original": True}),
    ]
    assert "ketamine_vote_helpful" in json.dumps(mods.fake.calls[0].body["blocks"])
    assert alerts(mods.fake) == []


async def test_no_on_an_ephemeral_check_in_answers_in_the_thread_too(slack):
    slack.fake.fail(
        "chat.postMessage", error="cannot_dm_bot", when=lambda body: body["channel"] == MEMBER
    )
    parent = next_ts()
    await slack.send_event(mention(QUESTION, thread_ts=parent))
    await slack.settle()
    value = value_of(slack.fake.bodies("chat.postEphemeral")[0])
    await click(slack, "ketamine_check_in_other", value, "no", ephemeral=True)
    answer = slack.service.responder.answer(ENTRY)
    [posted] = slack.fake.bodies("chat.postMessage")
    assert (posted["channel"], posted["thread_ts"], posted["blocks"]) == (
        CHANNEL,
        parent,
        render_blocks(answer),
    )


async def test_no_in_a_dm_answers_in_place_of_the_check_in(slack):
    await slack.send_event(direct_message(QUESTION))
    await slack.settle()
    value = value_of(slack.fake.bodies("chat.postMessage")[0])
    await click(slack, "ketamine_check_in_other", value, "no", channel=DM_CHANNEL, ephemeral=False)
    answer = slack.service.responder.answer(ENTRY)
    assert [call.body for call in slack.fake.deliveries] == [
        {
            "replace_original": True,
            "text": render_text(answer),
            "blocks": render_blocks(answer),
            **NO_PREVIEWS,
        }
    ]


async def test_no_after_the_command_answers_privately_as_the_command_would(slack):
    await slack.command("/ketamine", QUESTION, slack.fake.response_url("ask"))
    await slack.settle()
    value = value_of(slack.fake.deliveries[0].body)
    await click(slack, "ketamine_check_in_other", value, "no", ephemeral=True)
    answer = slack.service.responder.answer(ENTRY)
    share = slack.service.knowledge.replies.interface.share_button
    assert [call.body for call in slack.fake.deliveries] == [
        {
            "replace_original": True,
            "text": render_text(answer),
            "blocks": render_blocks(answer, share_label=share),
            **NO_PREVIEWS,
        }
    ]


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        json.dumps({"where": "channel", "channel": "<!channel>", "entry": ENTRY}),
        json.dumps({"where": "everywhere", "channel": CHANNEL}),
    ],
)
async def test_a_button_value_the_bot_never_drew_gets_help_privately_and_nothing_public(
    slack, value
):
    await click(slack, "ketamine_check_in_other", value, "odd", ephemeral=True)
    reply = slack.service.responder.help()
    assert [call.body for call in slack.fake.deliveries] == [
        {"replace_original": True, "text": render_text(reply), "blocks": render_blocks(reply)}
    ]
