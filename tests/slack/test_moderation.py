"""Moderators on Slack: commands allowed and refused, votes, crisis alerts (calls Slack gets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.moderators import Moderation, ModeratorSettings, unanswered_line
from bot.adapters.slack import attach
from bot.adapters.slack.render import escape, render_blocks
from bot.adapters.slack.settings import EVENTS_PATH
from bot.core.reload import KnowledgeReloader, ReloadResult
from bot.core.service import BotService
from bot.knowledge import Problem, load_knowledge
from bot.storage import Store, VoteCount
from tests.slack.conftest import SlackHarness
from tests.slack.fake_slack import TEAM_ID, Call, FakeSlack
from tests.slack.slack_requests import (
    BOT_TOKEN,
    CHANNEL,
    MEMBER,
    SIGNING_SECRET,
    direct_message,
    mention,
    next_ts,
)

MODERATOR = "U0MOD1"
GROUP_MEMBER = "U0MOD2"
USERGROUP = "S0MODS"
ALERT_CHANNEL = "C0ALERTS"
CRISIS_WORDS = "i cant go on, i want to end my life tonight"


def moderation_for(
    service: BotService, store: Store | None = None, *, alerts: bool = True
) -> Moderation:
    settings = ModeratorSettings(
        slack_user_ids=frozenset({MODERATOR}),
        slack_usergroup_id=USERGROUP,
        slack_alert_channel=ALERT_CHANNEL if alerts else None,
    )
    return Moderation(settings, store=store, reloader=KnowledgeReloader(service))


async def serve(
    fake: FakeSlack, service: BotService, moderation: Moderation | None
) -> AsyncIterator[SlackHarness]:
    """A team's Bolt app with the bot attached, on loopback, talking to the fake Web API."""
    fake.usergroups[USERGROUP] = [GROUP_MEMBER]
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url),
        signing_secret=SIGNING_SECRET,
    )
    adapter = attach(app, service, moderation=moderation)
    runner = web.AppRunner(app.web_app(path=EVENTS_PATH))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    running = SimpleNamespace(adapter=adapter, port=runner.addresses[0][1])
    try:
        async with aiohttp.ClientSession() as session:
            yield SlackHarness(running, fake, session)  # type: ignore[arg-type]
            await adapter.idle(timeout=10)
    finally:
        await runner.cleanup()


@pytest.fixture()
async def mods(
    fake_slack: FakeSlack, live_service: BotService, store: Store
) -> AsyncIterator[SlackHarness]:
    async for harness in serve(fake_slack, live_service, moderation_for(live_service, store)):
        yield harness


async def command(slack: SlackHarness, name: str, text: str = "", *, user: str) -> dict[str, Any]:
    """Run a slash command as ``user``; the one response_url post it got."""
    slack.fake.clear()
    url = slack.fake.response_url(name.strip("/"))
    assert await slack.command(name, text, url, user=user) == ""  # nothing shows in the channel
    await slack.settle()
    [reply] = [call for call in slack.fake.calls if call.method == "response_url"]
    return reply.body


def refused(service: BotService) -> dict[str, Any]:
    texts = service.knowledge.replies.interface
    return {"response_type": "ephemeral", "replace_original": False, "text": texts.moderators_only}


def edit_an_answer(folder: Path) -> None:
    path = folder / "entries" / "overview.yaml"
    path.write_text(path.read_text("utf-8").replace("leans towards yes", "leans to yes"), "utf-8")


# -- /ketamine-reload ------------------------------------------------------------------------


async def test_reload_by_a_listed_moderator_reports_count_and_version(
    mods: SlackHarness, live_service: BotService, folder: Path
) -> None:
    edit_an_answer(folder)

    reply = await command(mods, "/ketamine-reload", user=MODERATOR)

    knowledge = load_knowledge(folder)
    assert live_service.knowledge.version == knowledge.version
    assert reply == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": f"Knowledge base reloaded: {len(knowledge.entries)} entries, "
        f"version {knowledge.version}.",
    }


async def test_reload_by_a_member_of_the_moderators_group_works_too(
    mods: SlackHarness, live_service: BotService
) -> None:
    reply = await command(mods, "/ketamine-reload", user=GROUP_MEMBER)

    assert mods.fake.bodies("usergroups.users.list") == [
        {"usergroup": USERGROUP, "team_id": TEAM_ID}  # Bolt's client names the workspace
    ]
    knowledge = live_service.knowledge
    assert reply["text"] == (
        f"Nothing new to load: {len(knowledge.entries)} entries, version {knowledge.version}."
    )


async def test_reload_by_anyone_else_is_refused_privately_and_changes_nothing(
    mods: SlackHarness, live_service: BotService, folder: Path
) -> None:
    before = live_service.responder
    edit_an_answer(folder)

    reply = await command(mods, "/ketamine-reload", user=MEMBER)

    assert reply == refused(live_service)
    assert live_service.responder is before


async def test_a_broken_edit_is_not_loaded_and_the_moderator_sees_each_problem(
    mods: SlackHarness, live_service: BotService, folder: Path
) -> None:
    before = live_service.responder
    (folder / "replies.yaml").unlink()

    reply = await command(mods, "/ketamine-reload", user=MODERATOR)

    assert live_service.responder is before
    assert reply["text"] == (
        "The knowledge base was NOT reloaded: the bot keeps answering from version "
        f"{before.knowledge.version}. Fix these problems (ketamine-bot validate lists the same):"
        f"\n```\n{folder / 'replies.yaml'}:1: required file is missing\n```"
    )


# -- /ketamine-unanswered ----------------------------------------------------------------------


async def test_unanswered_lists_grouped_questions_for_moderators(
    mods: SlackHarness, live_service: BotService, store: Store
) -> None:
    live_service.listeners.append(store.record)
    wordings = ["can my cat eat lasagna", "can my cat eat lasagne?", "who won <football>"]
    for member, question in enumerate(wordings):  # one member each: no cooldown between
        live_service.ask(question, platform="slack", member=f"slack:T1:U{member}")

    reply = await command(mods, "/ketamine-unanswered", "7", user=MODERATOR)

    groups = store.unanswered(days=7, limit=10)
    assert [(group.count, group.wordings) for group in groups] == [(2, 2), (1, 1)]
    texts = live_service.knowledge.replies.interface
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].splitlines() == [
        "*Questions the bot could not answer in the last 7 days*",
        f"1. {escape(unanswered_line(texts, groups[0]))}",
        "2. who won &lt;football&gt; (asked 1 time(s), in 1 wording(s))",  # member text escaped
    ]


async def test_unanswered_is_refused_to_members(mods: SlackHarness, live_service: BotService):
    assert await command(mods, "/ketamine-unanswered", user=MEMBER) == refused(live_service)


async def test_unanswered_without_a_store_says_the_log_is_off(
    fake_slack: FakeSlack, slack_service: BotService
) -> None:
    async for slack in serve(fake_slack, slack_service, moderation_for(slack_service)):
        reply = await command(slack, "/ketamine-unanswered", "abc", user=MODERATOR)
    texts = slack_service.knowledge.replies.interface
    assert reply["text"] == texts.unanswered_off


# -- feedback ---------------------------------------------------------------------------------


def vote_block(message: dict[str, Any]) -> dict[str, Any]:
    [block] = [block for block in message["blocks"] if block.get("block_id") == "ketamine_feedback"]
    return block


async def test_answers_carry_feedback_buttons_and_votes_reach_the_store(
    mods: SlackHarness, live_service: BotService, store: Store
) -> None:
    await mods.send_event(mention("how fast does ketamine work?"))
    await mods.settle()
    [answer] = mods.fake.bodies("chat.postMessage")
    reply = live_service.responder.respond("how fast does ketamine work?")
    assert answer["blocks"] == render_blocks(reply, feedback=("Helpful", "Not helpful"))
    helpful, not_helpful = vote_block(answer)["elements"]
    assert (helpful["action_id"], helpful["value"]) == ("ketamine_vote_helpful", reply.entry_id)
    assert helpful["text"]["text"] == "Helpful"
    assert not_helpful["action_id"] == "ketamine_vote_not_helpful"
    assert not_helpful["text"]["text"] == "Not helpful"
    message_ts = next_ts()
    mods.fake.clear()

    async def click(button: dict[str, Any], *, user: str = MEMBER) -> None:
        await mods.click(
            button["action_id"],
            button["value"],
            mods.fake.response_url("vote"),
            ephemeral=False,
            user=user,
            message_ts=message_ts,
        )
        await mods.settle()

    await click(helpful)
    assert store.votes() == {reply.entry_id: VoteCount(helpful=1, not_helpful=0)}
    await click(helpful)
    assert store.votes() == {reply.entry_id: VoteCount(helpful=1, not_helpful=0)}
    await click(not_helpful)
    assert store.votes() == {reply.entry_id: VoteCount(helpful=0, not_helpful=1)}
    await click(helpful, user="U0OTHER")
    assert store.votes() == {reply.entry_id: VoteCount(helpful=1, not_helpful=1)}

    thanks = live_service.knowledge.replies.interface.vote_thanks
    assert [call.body for call in mods.fake.deliveries] == 4 * [
        {"response_type": "ephemeral", "replace_original": False, "text": thanks}
    ]


async def test_private_answers_carry_share_and_feedback_buttons(
    mods: SlackHarness, live_service: BotService
) -> None:
    reply = await command(mods, "/ketamine", "how fast does ketamine work?", user=MEMBER)
    actions = [block["block_id"] for block in reply["blocks"] if block["type"] == "actions"]
    assert actions == ["ketamine_share", "ketamine_feedback"]


async def test_without_a_store_answers_carry_no_feedback_buttons(slack: SlackHarness) -> None:
    await slack.send_event(mention("how fast does ketamine work?"))
    await slack.settle()
    [answer] = slack.fake.bodies("chat.postMessage")
    assert "ketamine_feedback" not in str(answer)


# -- crisis alerts -----------------------------------------------------------------------------


def alerts(fake: FakeSlack) -> list[Call]:
    return [
        call
        for call in fake.calls
        if call.method == "chat.postMessage" and call.body["channel"] == ALERT_CHANNEL
    ]


async def test_crisis_in_a_channel_alerts_moderators_with_a_link_and_no_text(
    mods: SlackHarness,
) -> None:
    event = mention(CRISIS_WORDS)
    await mods.send_event(event)
    await mods.settle()

    assert mods.fake.bodies("chat.getPermalink") == [
        {"channel": CHANNEL, "message_ts": event["ts"], "team_id": TEAM_ID}
    ]
    link = f"https://fake.slack.test/archives/{CHANNEL}/p{event['ts'].replace('.', '')}"
    [alert] = alerts(mods.fake)
    assert alert.body == {
        "channel": ALERT_CHANNEL,
        "text": f"A member's message may show they are in crisis: <{link}> The bot has sent "
        "them crisis resources privately; nothing of what they wrote is copied here. If you "
        "can, please reach out to them.",
        "unfurl_links": False,
        "unfurl_media": False,
        "team_id": TEAM_ID,
    }
    for word in ("end my life", "cant go on", "tonight"):
        assert word not in str(alert.body)


async def test_a_crisis_alert_without_a_permalink_names_the_channel(mods: SlackHarness) -> None:
    mods.fake.fail("chat.getPermalink", error="message_not_found")
    await mods.send_event(mention(CRISIS_WORDS))
    await mods.settle()
    [alert] = alerts(mods.fake)
    assert f"in crisis: <#{CHANNEL}> The bot" in alert.body["text"]


async def test_crisis_in_a_dm_is_not_reported_to_moderators(mods: SlackHarness) -> None:
    await mods.send_event(direct_message(CRISIS_WORDS))
    await mods.settle()
    assert alerts(mods.fake) == []
    assert mods.fake.bodies("chat.getPermalink") == []


async def test_crisis_alerts_are_off_by_default(slack: SlackHarness) -> None:
    await slack.send_event(mention(CRISIS_WORDS))
    await slack.settle()
    assert {body["channel"] for body in slack.fake.bodies("chat.postMessage")} == {MEMBER}
    assert slack.fake.bodies("chat.getPermalink") == []


# -- reload notices from the watcher ----------------------------------------------------------


async def test_an_edit_on_disk_that_fails_is_posted_to_the_alert_channel(
    mods: SlackHarness, live_service: BotService
) -> None:
    failed = ReloadResult(
        live_service.knowledge, problems=(Problem("knowledge/safety.yaml", 7, "a <b> problem"),)
    )
    mods.fake.clear()

    for listener in mods.adapter.reloader.listeners:
        await listener(failed)
        await listener(ReloadResult(live_service.knowledge, trigger="command"))  # not posted

    [alert] = alerts(mods.fake)
    assert alert.body["text"].endswith("```\nknowledge/safety.yaml:7: a &lt;b&gt; problem\n```")
