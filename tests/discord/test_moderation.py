"""Moderators on Discord: commands allowed and refused, votes, crisis alerts (the JSON sent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord.ext import commands

from bot.adapters.discord import KetamineCog
from bot.adapters.discord.render import escape, render_notice
from bot.adapters.discord.runner import sync_commands
from bot.adapters.moderators import Moderation, ModeratorSettings, unanswered_line
from bot.core.reload import KnowledgeReloader, ReloadResult
from bot.core.service import BotService
from bot.knowledge import Problem, load_knowledge
from bot.storage import Store, VoteCount
from tests.discord import payloads
from tests.discord.conftest import (
    MESSAGES,
    ReadingTime,
    connected,
    interact,
    post_message,
    standalone_bot,
)
from tests.discord.fake_discord import FakeDiscord, Recorded

EPHEMERAL = payloads.EPHEMERAL
CHANNEL_MESSAGE, DEFERRED = 4, 5
MANAGE_GUILD = 1 << 5
MOD_ROLE_ID = 930_000_000_000_000_777
ALERT_CHANNEL_ID = 920_000_000_000_000_999
CRISIS_WORDS = "i cant go on, i want to end my life tonight"
FOLLOWUPS = rf"/webhooks/{payloads.APPLICATION_ID}/[^/]+"


def moderation_for(
    service: BotService, store: Store | None = None, *, alerts: bool = True
) -> Moderation:
    settings = ModeratorSettings(
        discord_role_ids=frozenset({MOD_ROLE_ID}),
        discord_alert_channel=ALERT_CHANNEL_ID if alerts else None,
    )
    return Moderation(settings, store=store, reloader=KnowledgeReloader(service))


async def bot_with(fake: FakeDiscord, cog_of: Any) -> AsyncIterator[commands.Bot]:
    fake.guilds[0]["roles"].append(
        dict(fake.guilds[0]["roles"][0], id=str(MOD_ROLE_ID), name="moderators", permissions="0")
    )
    client = standalone_bot()
    await client.add_cog(cog_of(client))
    async with connected(client, fake):
        yield client


@pytest.fixture()
async def mod_bot(
    fake: FakeDiscord, live_service: BotService, store: Store
) -> AsyncIterator[commands.Bot]:
    moderation = moderation_for(live_service, store)
    async for client in bot_with(
        fake, lambda c: KetamineCog(c, service=live_service, moderation=moderation)
    ):
        yield client


def command(name: str, *, permissions: int = 0, roles: tuple[int, ...] = (), **options: Any):
    """``/name`` from a member with extra ``permissions`` and ``roles``."""
    data = payloads.slash_command(name)
    if options:
        data["data"]["options"] = [
            {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
            for key, value in options.items()
        ]
    data["member"]["permissions"] = str(int(payloads.BOT_PERMISSIONS) | permissions)
    data["member"]["roles"] = [str(role) for role in roles]
    return data


async def deferred_answer(fake: FakeDiscord, data: dict[str, Any]) -> str:
    """Run a command expected to think first; the follow-up's content."""
    since = len(fake.requests)
    callback = await interact(fake, data)
    assert callback.body["type"] == DEFERRED
    assert callback.body["data"]["flags"] == EPHEMERAL
    [followup] = await fake.wait_for_request("POST", FOLLOWUPS, since=since)
    assert followup.body["flags"] == EPHEMERAL
    assert followup.body["allowed_mentions"] == {"parse": []}
    return followup.body["content"]


def refusal(callback: Recorded, service: BotService) -> None:
    assert callback.body["type"] == CHANNEL_MESSAGE
    data = callback.body["data"]
    assert data["flags"] == EPHEMERAL
    assert data["content"] == render_notice(service.knowledge.replies.interface.moderators_only)


def edit_an_answer(folder: Path, old: str, new: str) -> None:
    path = folder / "entries" / "overview.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- registration ------------------------------------------------------------------------------


async def test_moderator_commands_are_server_only_and_for_manage_server_by_default(
    fake: FakeDiscord, mod_bot: commands.Bot
) -> None:
    await sync_commands(mod_bot, None)

    [upload] = fake.sent("PUT", rf"/applications/{payloads.APPLICATION_ID}/commands")
    uploaded = {command["name"]: command for command in upload.body}

    for name in ("ketamine-reload", "ketamine-unanswered"):
        assert int(uploaded[name]["default_member_permissions"]) == MANAGE_GUILD
        assert uploaded[name]["dm_permission"] is False
    [days] = uploaded["ketamine-unanswered"]["options"]
    assert (days["name"], days["type"], days["required"]) == ("days", 4, False)
    assert (days["min_value"], days["max_value"]) == (1, 365)
    assert uploaded["ketamine"].get("default_member_permissions") is None  # members' command


# -- /ketamine-reload --------------------------------------------------------------------------


async def test_reload_by_a_manage_server_member_reports_count_and_version(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService, folder: Path
) -> None:
    edit_an_answer(folder, "leans towards yes", "leans to yes")

    content = await deferred_answer(fake, command("ketamine-reload", permissions=MANAGE_GUILD))

    knowledge = load_knowledge(folder)
    assert live_service.knowledge.version == knowledge.version
    assert content == (
        f"Knowledge base reloaded: {len(knowledge.entries)} entries, version {knowledge.version}."
    )


async def test_reload_by_a_moderator_role_works_too(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    content = await deferred_answer(fake, command("ketamine-reload", roles=(MOD_ROLE_ID,)))

    knowledge = live_service.knowledge
    assert content == (
        f"Nothing new to load: {len(knowledge.entries)} entries, version {knowledge.version}."
    )


async def test_reload_by_anyone_else_is_refused_privately_and_changes_nothing(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService, folder: Path
) -> None:
    before = live_service.responder
    edit_an_answer(folder, "leans towards yes", "leans to yes")

    callback = await interact(fake, command("ketamine-reload", roles=(payloads.BOT_ROLE_ID,)))

    refusal(callback, live_service)
    assert live_service.responder is before


async def test_reload_in_a_dm_is_refused(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    data = payloads.slash_command("ketamine-reload", guild=False, channel_id=payloads.next_id())
    refusal(await interact(fake, data), live_service)


async def test_a_broken_edit_is_not_loaded_and_the_moderator_sees_each_problem(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService, folder: Path
) -> None:
    before = live_service.responder
    (folder / "sources.yaml").write_text("sources: [\n", encoding="utf-8")

    content = await deferred_answer(fake, command("ketamine-reload", permissions=MANAGE_GUILD))

    assert live_service.responder is before
    version = before.knowledge.version
    assert content == (
        "The knowledge base was NOT reloaded: the bot keeps answering from version "
        f"{version}. Fix these problems (ketamine-bot validate lists the same):\n"
        f"```\n{folder / 'sources.yaml'}:2: YAML syntax error: "
        "did not find expected node content\n```"
    )


# -- /ketamine-unanswered ----------------------------------------------------------------------


async def test_unanswered_lists_grouped_questions_for_moderators(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService, store: Store
) -> None:
    live_service.listeners.append(store.record)
    for member, question in enumerate(
        [
            "can my cat eat lasagna",
            "can my cat eat lasagne?",
            "CAN MY CAT EAT LASAGNA!",
            "who won the football",
        ]
    ):  # one member each: the core holds back a second question inside the cooldown
        live_service.ask(question, platform="discord", member=f"discord:{member}")

    content = await deferred_answer(
        fake, command("ketamine-unanswered", permissions=MANAGE_GUILD, days=7)
    )

    groups = store.unanswered(days=7, limit=10)
    assert [group.count for group in groups] == [3, 1]
    texts = live_service.knowledge.replies.interface
    assert content.splitlines() == [
        "**Questions the bot could not answer in the last 7 days**",
        f"1. {escape(unanswered_line(texts, groups[0]))}",
        f"2. {escape(unanswered_line(texts, groups[1]))}",
    ]
    assert "(asked 3 time(s), in " in content


async def test_unanswered_with_nothing_to_show_says_so(
    fake: FakeDiscord, mod_bot: commands.Bot
) -> None:
    content = await deferred_answer(fake, command("ketamine-unanswered", roles=(MOD_ROLE_ID,)))
    assert content == "**No unanswered questions in the last 30 days.**"


async def test_unanswered_is_refused_to_members(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    refusal(await interact(fake, command("ketamine-unanswered", days=7)), live_service)


async def test_unanswered_without_a_store_says_the_log_is_off(
    fake: FakeDiscord, service: BotService
) -> None:
    moderation = moderation_for(service)
    async for _ in bot_with(fake, lambda c: KetamineCog(c, service=service, moderation=moderation)):
        callback = await interact(fake, command("ketamine-unanswered", permissions=MANAGE_GUILD))
    texts = service.knowledge.replies.interface
    assert callback.body["data"]["content"] == render_notice(texts.unanswered_off)
    assert callback.body["data"]["flags"] == EPHEMERAL


# -- feedback ----------------------------------------------------------------------------------


def vote_buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        button
        for row in body.get("components", [])
        for button in row["components"]
        if button["custom_id"].startswith("ketamine:vote:")
    ]


async def test_answers_carry_feedback_buttons_and_votes_reach_the_store(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService, store: Store
) -> None:
    entry = next(iter(live_service.knowledge.entries.values()))
    texts = live_service.knowledge.replies.interface
    [sent] = await post_message(fake, payloads.mention(entry.question))
    helpful, not_helpful = vote_buttons(sent.body)
    assert (helpful["label"], helpful["custom_id"]) == ("Helpful", f"ketamine:vote:y:{entry.id}")
    assert (not_helpful["label"], not_helpful["custom_id"]) == (
        "Not helpful",
        f"ketamine:vote:n:{entry.id}",
    )
    posted = fake.messages[next(reversed(fake.messages))]

    thanks = await interact(fake, payloads.button_press(posted, helpful["custom_id"]))
    assert store.votes() == {entry.id: VoteCount(helpful=1, not_helpful=0)}
    await interact(fake, payloads.button_press(posted, helpful["custom_id"]))
    assert store.votes() == {entry.id: VoteCount(helpful=1, not_helpful=0)}  # one vote each
    await interact(fake, payloads.button_press(posted, not_helpful["custom_id"]))
    assert store.votes() == {entry.id: VoteCount(helpful=0, not_helpful=1)}  # changed
    other = payloads.next_id()
    await interact(fake, payloads.button_press(posted, helpful["custom_id"], user_id=other))
    assert store.votes() == {entry.id: VoteCount(helpful=1, not_helpful=1)}

    assert thanks.body["type"] == CHANNEL_MESSAGE
    assert thanks.body["data"]["flags"] == EPHEMERAL
    assert thanks.body["data"]["content"] == render_notice(texts.vote_thanks)


async def test_private_and_shared_answers_carry_feedback_buttons_too(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    reading = ReadingTime(live_service)
    entry = next(iter(live_service.knowledge.entries.values()))
    answered = await interact(
        fake, payloads.slash_command("ketamine", {"question": entry.question})
    )
    ids = [b["custom_id"] for row in answered.body["data"]["components"] for b in row["components"]]
    assert ids == [
        f"ketamine:share:{entry.id}",
        f"ketamine:vote:y:{entry.id}",
        f"ketamine:vote:n:{entry.id}",
    ]
    posted = fake.messages[next(reversed(fake.messages))]
    reading.passes()

    shared = await interact(fake, payloads.button_press(posted, f"ketamine:share:{entry.id}"))

    assert [b["custom_id"] for b in vote_buttons(shared.body["data"])] == ids[1:]


async def test_without_a_store_answers_carry_no_feedback_buttons(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    entry = next(iter(service.knowledge.entries.values()))
    [sent] = await post_message(fake, payloads.mention(entry.question))
    assert vote_buttons(sent.body) == []


# -- crisis alerts -----------------------------------------------------------------------------


async def test_crisis_in_a_channel_alerts_moderators_with_a_link_and_no_text(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    asked = payloads.mention(CRISIS_WORDS)
    since = len(fake.requests)

    await post_message(fake, asked, count=2)  # the DM and the pointer in the channel
    [alert] = await fake.wait_for_request(
        "POST", rf"/channels/{ALERT_CHANNEL_ID}/messages", since=since
    )

    link = f"https://discord.com/channels/{payloads.GUILD_ID}/{payloads.CHANNEL_ID}/{asked['id']}"
    assert alert.body["content"] == (
        f"A member's message may show they are in crisis: {link} The bot has sent them crisis "
        "resources privately; nothing of what they wrote is copied here. If you can, please "
        "reach out to them."
    )
    assert alert.body["allowed_mentions"] == {"parse": []}
    assert "embeds" not in alert.body or not alert.body["embeds"]
    for word in ("end my life", "cant go on", "tonight"):
        assert word not in str(alert.body)


async def test_a_second_crisis_within_the_window_raises_no_second_alert(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    await post_message(fake, payloads.mention(CRISIS_WORDS), count=2)
    await fake.wait_for_request("POST", rf"/channels/{ALERT_CHANNEL_ID}/messages")

    private, public = await post_message(fake, payloads.mention(CRISIS_WORDS), count=2)
    cog = mod_bot.get_cog("Ketamine")
    assert isinstance(cog, KetamineCog)
    assert await cog.work.drain(5)

    assert private.body["embeds"]  # the member gets the crisis reply every time
    assert public.body["content"]
    assert len(fake.sent("POST", rf"/channels/{ALERT_CHANNEL_ID}/messages")) == 1


async def test_crisis_in_a_dm_is_not_reported_to_moderators(
    fake: FakeDiscord, mod_bot: commands.Bot
) -> None:
    dm_channel = payloads.next_id()
    await post_message(fake, payloads.direct_message(CRISIS_WORDS, channel_id=dm_channel))
    question = payloads.mention("what is ptsd")  # a later message, to know the first is done
    await post_message(fake, question)
    assert not fake.sent("POST", rf"/channels/{ALERT_CHANNEL_ID}/messages")


async def test_crisis_alerts_are_off_by_default(fake: FakeDiscord, service: BotService) -> None:
    async for _ in bot_with(fake, lambda c: KetamineCog(c, service=service)):
        await post_message(fake, payloads.mention(CRISIS_WORDS), count=2)
        await post_message(fake, payloads.mention("what is ptsd"))
    channels = {request.path for request in fake.sent("POST", MESSAGES)}
    dm = fake.dm_channel_of(payloads.MEMBER_ID)
    assert channels == {f"/channels/{payloads.CHANNEL_ID}/messages", f"/channels/{dm}/messages"}


# -- reload notices from the watcher -----------------------------------------------------------


async def test_an_edit_on_disk_that_fails_is_posted_to_the_alert_channel(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService, folder: Path
) -> None:
    cog = mod_bot.get_cog("Ketamine")
    assert isinstance(cog, KetamineCog)
    watcher = cog.reloader
    watcher.quiet_ms, watcher.max_wait_ms, watcher.tick_ms = 50, 500, 50
    await watcher.start()
    try:
        await asyncio.wait_for(watcher.watching.wait(), 10)
        since = len(fake.requests)
        (folder / "sources.yaml").write_text("sources: [\n", encoding="utf-8")
        [notice] = await fake.wait_for_request(
            "POST", rf"/channels/{ALERT_CHANNEL_ID}/messages", since=since, timeout=10
        )
    finally:
        await watcher.stop()

    version = live_service.knowledge.version
    assert notice.body["content"] == (
        "The knowledge base was NOT reloaded: the bot keeps answering from version "
        f"{version}. Fix these problems (ketamine-bot validate lists the same):\n"
        f"```\n{folder / 'sources.yaml'}:2: YAML syntax error: "
        "did not find expected node content\n```"
    )


async def test_reload_results_of_commands_are_not_posted_to_the_alert_channel(
    fake: FakeDiscord, mod_bot: commands.Bot, live_service: BotService
) -> None:
    cog = mod_bot.get_cog("Ketamine")
    assert isinstance(cog, KetamineCog)
    failed = ReloadResult(
        live_service.knowledge,
        problems=(Problem("knowledge/sources.yaml", 3, "broken"),),
        trigger="command",  # the moderator who asked gets the answer privately
    )
    await cog.tell_moderators_about_reload(failed)
    await post_message(fake, payloads.mention("what is ptsd"))
    assert not fake.sent("POST", rf"/channels/{ALERT_CHANNEL_ID}/messages")
