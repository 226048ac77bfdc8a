"""The check-in on Discord: the JSON of the DM, the pointer, and what each button does.

The detector's thresholds are edited in a copy of the knowledge base so that every
message that is not plain crisis language gets a check-in: the tests do not depend on
where a trained model happens to put one sentence.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord.ext import commands

from bot.adapters.discord import KetamineCog
from bot.adapters.discord.moderation import member_key
from bot.adapters.discord.render import render_notice, render_reply
from bot.adapters.discord.views import Origin, check_in_custom_id
from bot.adapters.moderators import Moderation, ModeratorSettings
from bot.core.reload import KnowledgeReloader
from bot.core.reply import ReplyKind
from bot.core.service import BotService
from bot.knowledge import load_knowledge
from tests.discord import payloads
from tests.discord.conftest import MESSAGES, connected, interact, standalone_bot, text_of
from tests.discord.fake_discord import FakeDiscord, Recorded

ALERT_CHANNEL_ID = 920_000_000_000_000_999
ALERTS = rf"/channels/{ALERT_CHANNEL_ID}/messages"
NO_PINGS = {"parse": [], "replied_user": False}
CHANNEL_MESSAGE, UPDATE_MESSAGE = 4, 7
PRIMARY, SECONDARY = 1, 2
CRISIS_WORDS = "i cant go on, i want to end my life tonight"


@pytest.fixture()
def checking(folder: Path) -> BotService:
    """A service whose crisis detector checks in on everything short of the crisis floor."""
    path = folder / "models" / "crisis.json"
    model = json.loads(path.read_text(encoding="utf-8"))
    model["thresholds"] = {"check_in": 0.0, "crisis": 1.0}
    path.write_text(json.dumps(model), encoding="utf-8")
    return BotService(load_knowledge(folder))


@pytest.fixture()
async def cog(fake: FakeDiscord, checking: BotService) -> AsyncIterator[KetamineCog]:
    """The cog, with a moderators' alert channel, in a bot connected to the fake."""
    settings = ModeratorSettings(discord_alert_channel=ALERT_CHANNEL_ID)
    moderation = Moderation(settings, reloader=KnowledgeReloader(checking))
    client = standalone_bot()
    added = KetamineCog(client, service=checking, moderation=moderation)
    await client.add_cog(added)
    async with connected(client, fake):
        yield added


def question_of(service: BotService) -> tuple[str, str]:
    entry = next(iter(service.knowledge.entries.values()))
    return entry.question, entry.id


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in body.get("components", []) for button in row["components"]]


def posted(fake: FakeDiscord, request: Recorded) -> dict[str, Any]:
    """The message the fake made of ``request`` (to press its buttons)."""
    return next(
        message
        for message in reversed(fake.messages.values())
        if message["embeds"] == (request.body.get("embeds") or [])
        and message["components"] == (request.body.get("components") or [])
    )


async def ask_in_channel(
    fake: FakeDiscord, question: str
) -> tuple[dict[str, Any], Recorded, Recorded]:
    """Mention the bot with ``question``; the message, the DM and the channel's pointer."""
    asked = payloads.mention(question)
    since = len(fake.requests)
    await fake.dispatch("MESSAGE_CREATE", asked)
    private, public = await fake.wait_for_request("POST", MESSAGES, since=since, count=2)
    return asked, private, public


async def test_a_check_in_goes_to_dms_with_two_buttons_and_the_channel_sees_a_pointer(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    question, entry_id = question_of(checking)

    asked, private, public = await ask_in_channel(fake, question)

    check_in = checking.knowledge.safety.check_in
    reply = checking.responder.respond(question)
    assert reply.kind is ReplyKind.CHECK_IN and reply.entry_id == entry_id
    assert private.path == f"/channels/{fake.dm_channel_of(payloads.MEMBER_ID)}/messages"
    [embed] = private.body["embeds"]
    assert embed == render_reply(reply).to_dict()
    assert embed["title"] == check_in.title
    resources = checking.knowledge.safety.crisis.resources
    assert embed["description"].endswith(f"**{check_in.question}**")
    assert all(f"- {item}" in embed["description"] for item in resources)
    assert embed["footer"]["text"] == checking.knowledge.replies.disclaimer
    located = f"{entry_id}:{payloads.CHANNEL_ID}:{asked['id']}"
    assert buttons(private.body) == [
        {
            "type": 2,
            "style": PRIMARY,
            "disabled": False,
            "label": check_in.yes_button,
            "custom_id": f"ketamine:checkin:support:{located}",
        },
        {
            "type": 2,
            "style": SECONDARY,
            "disabled": False,
            "label": check_in.no_button,
            "custom_id": f"ketamine:checkin:other:{located}",
        },
    ]
    assert private.body["allowed_mentions"] == {"parse": []}
    assert public.path == f"/channels/{payloads.CHANNEL_ID}/messages"
    assert public.body["content"] == render_notice(check_in.public_pointer)
    assert "embeds" not in public.body and not public.body["components"]
    assert public.body["message_reference"]["message_id"] == int(asked["id"])
    assert public.body["allowed_mentions"] == NO_PINGS
    assert question not in text_of(public) and question not in text_of(private)


async def test_yes_replaces_the_check_in_with_the_crisis_reply_and_alerts_once(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    question, _ = question_of(checking)
    asked, private, _ = await ask_in_channel(fake, question)
    [yes, _] = buttons(private.body)

    since = len(fake.requests)
    press = payloads.button_press(posted(fake, private), yes["custom_id"], guild=False)
    callback = await interact(fake, press)
    [alert] = await fake.wait_for_request("POST", ALERTS, since=since)

    assert callback.body["type"] == UPDATE_MESSAGE
    crisis = checking.responder.crisis()
    assert callback.body["data"]["embeds"] == [render_reply(crisis).to_dict()]
    assert callback.body["data"]["components"] == []
    link = f"https://discord.com/channels/{payloads.GUILD_ID}/{payloads.CHANNEL_ID}/{asked['id']}"
    assert link in alert.body["content"]
    assert question not in alert.body["content"]
    assert alert.body["allowed_mentions"] == {"parse": []}

    # asked again within the alert window: the member gets everything, moderators no repeat
    _, again, _ = await ask_in_channel(fake, question)
    [yes_again, _] = buttons(again.body)
    press = payloads.button_press(posted(fake, again), yes_again["custom_id"], guild=False)
    second = await interact(fake, press)
    assert await cog.work.drain(5)
    assert second.body["data"]["embeds"] == [render_reply(crisis).to_dict()]
    assert len(fake.sent("POST", ALERTS)) == 1


async def test_no_answers_in_the_channel_where_the_question_was_asked(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    question, entry_id = question_of(checking)
    asked, private, _ = await ask_in_channel(fake, question)
    [_, no] = buttons(private.body)

    since = len(fake.requests)
    press = payloads.button_press(posted(fake, private), no["custom_id"], guild=False)
    callback = await interact(fake, press)
    [answer] = await fake.wait_for_request("POST", MESSAGES, since=since)

    assert callback.body["type"] == UPDATE_MESSAGE
    assert callback.body["data"]["components"] == []  # the check-in stays, its buttons go
    assert "embeds" not in callback.body["data"]
    assert answer.path == f"/channels/{payloads.CHANNEL_ID}/messages"
    assert answer.body["embeds"] == [render_reply(checking.responder.answer(entry_id)).to_dict()]
    reference = answer.body["message_reference"]
    assert reference["message_id"] == int(asked["id"])
    assert reference["channel_id"] == payloads.CHANNEL_ID
    assert reference["fail_if_not_exists"] is False
    assert answer.body["allowed_mentions"] == NO_PINGS
    assert not fake.sent("POST", ALERTS)


async def test_with_dms_closed_the_channel_gets_only_the_brief_helplines(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    fake.dm_closed.add(payloads.MEMBER_ID)
    question, _ = question_of(checking)

    _, refused, public = await ask_in_channel(fake, question)

    assert refused.path == f"/channels/{fake.dm_channel_of(payloads.MEMBER_ID)}/messages"
    pointer = checking.knowledge.replies.interface.crisis_public_pointer
    assert public.body["content"] == render_notice(pointer)
    assert "embeds" not in public.body and not public.body["components"]


async def test_a_member_inside_the_cooldown_still_gets_the_check_in_and_the_crisis_reply(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    checking.cooldown.check(member_key(payloads.MEMBER_ID))  # the member has just asked
    question, _ = question_of(checking)

    _, private, public = await ask_in_channel(fake, question)
    _, crisis, pointer = await ask_in_channel(fake, CRISIS_WORDS)

    assert private.body["embeds"][0]["title"] == checking.knowledge.safety.check_in.title
    assert public.body["content"] == checking.knowledge.safety.check_in.public_pointer
    assert crisis.body["embeds"] == [render_reply(checking.responder.crisis()).to_dict()]
    interface = checking.knowledge.replies.interface
    assert pointer.body["content"] == render_notice(interface.crisis_sent_privately)


async def test_the_command_checks_in_ephemerally_and_no_gives_its_answer(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    question, entry_id = question_of(checking)

    shown = await interact(fake, payloads.slash_command("ketamine", {"question": question}))

    assert shown.body["type"] == CHANNEL_MESSAGE
    data = shown.body["data"]
    assert data["flags"] == payloads.EPHEMERAL
    assert data["embeds"] == [render_reply(checking.responder.respond(question)).to_dict()]
    assert [button["custom_id"] for button in buttons(data)] == [
        f"ketamine:checkin:support:{entry_id}",
        f"ketamine:checkin:other:{entry_id}",
    ]
    check_in = fake.messages[next(reversed(fake.messages))]

    answered = await interact(
        fake, payloads.button_press(check_in, f"ketamine:checkin:other:{entry_id}")
    )

    assert answered.body["type"] == UPDATE_MESSAGE
    answer = answered.body["data"]
    assert answer["embeds"] == [render_reply(checking.responder.answer(entry_id)).to_dict()]
    assert [button["custom_id"] for button in buttons(answer)] == [f"ketamine:share:{entry_id}"]
    assert not fake.sent("POST", MESSAGES)  # nothing public, nothing in a DM


async def test_yes_to_the_commands_check_in_stays_private(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    question, entry_id = question_of(checking)
    await interact(fake, payloads.slash_command("ketamine", {"question": question}))
    check_in = fake.messages[next(reversed(fake.messages))]

    callback = await interact(
        fake, payloads.button_press(check_in, f"ketamine:checkin:support:{entry_id}")
    )

    assert callback.body["type"] == UPDATE_MESSAGE
    assert callback.body["data"]["embeds"] == [render_reply(checking.responder.crisis()).to_dict()]
    assert callback.body["data"]["components"] == []
    assert await cog.work.drain(5)
    assert not fake.sent("POST", MESSAGES)  # no alert: there is no message to point to


async def test_a_check_in_in_a_dm_is_the_reply_and_no_answers_in_place(
    fake: FakeDiscord, cog: KetamineCog, checking: BotService
) -> None:
    question, entry_id = question_of(checking)
    dm_channel = payloads.next_id()
    since = len(fake.requests)
    await fake.dispatch("MESSAGE_CREATE", payloads.direct_message(question, channel_id=dm_channel))
    [sent] = await fake.wait_for_request("POST", MESSAGES, since=since)

    assert sent.path == f"/channels/{dm_channel}/messages"
    assert [button["custom_id"] for button in buttons(sent.body)] == [
        f"ketamine:checkin:support:{entry_id}",
        f"ketamine:checkin:other:{entry_id}",
    ]
    press = payloads.button_press(
        posted(fake, sent), f"ketamine:checkin:other:{entry_id}", guild=False
    )
    callback = await interact(fake, press)

    data = callback.body["data"]
    assert data["embeds"] == [render_reply(checking.responder.answer(entry_id)).to_dict()]
    assert buttons(data) == []  # not shareable from a DM; no votes without a store
    assert len(fake.sent("POST", MESSAGES, since=since)) == 1


async def test_a_press_after_a_restart_still_works(
    fake: FakeDiscord, checking: BotService, cog: KetamineCog
) -> None:
    question, entry_id = question_of(checking)
    _, private, _ = await ask_in_channel(fake, question)
    message = posted(fake, private)
    await cog.bot.close()

    restarted: commands.Bot = standalone_bot()
    await restarted.add_cog(KetamineCog(restarted, service=BotService(checking.knowledge)))
    async with connected(restarted, fake):
        [_, no] = buttons(private.body)
        since = len(fake.requests)
        await interact(fake, payloads.button_press(message, no["custom_id"], guild=False))
        [answer] = await fake.wait_for_request("POST", MESSAGES, since=since)

    assert answer.body["embeds"][0]["title"] == checking.knowledge.entries[entry_id].question


def test_a_custom_id_too_long_for_discord_drops_the_origin_first() -> None:
    origin = Origin(920_000_000_000_000_001, 950_000_000_000_000_001)
    long_entry = "a-" * 20 + "z"

    assert check_in_custom_id("other", "short", origin) == (
        f"ketamine:checkin:other:short:{origin.channel_id}:{origin.message_id}"
    )
    assert check_in_custom_id("other", long_entry, origin) == f"ketamine:checkin:other:{long_entry}"
    assert check_in_custom_id("support", None, None) == "ketamine:checkin:support:-"
    assert check_in_custom_id("other", "x" * 100, origin) == "ketamine:checkin:other:-"
