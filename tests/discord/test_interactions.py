"""Slash commands, autocomplete and buttons: assert the interaction callbacks sent."""

from __future__ import annotations

from typing import Any

from discord.ext import commands

from bot.adapters.discord import KetamineCog
from bot.adapters.discord.render import render_notice, render_reply
from bot.adapters.discord.runner import sync_commands
from bot.core.service import BotService
from tests.discord import payloads
from tests.discord.conftest import (
    MESSAGES,
    ReadingTime,
    clarifying_question,
    connected,
    embed_of,
    interact,
    post_message,
    standalone_bot,
)
from tests.discord.fake_discord import FakeDiscord

EPHEMERAL = payloads.EPHEMERAL
NO_PINGS = {"parse": []}
CHANNEL_MESSAGE = 4
AUTOCOMPLETE_RESULT = 8
ALL_COMMANDS = {"ketamine", "ketamine-sources", "ketamine-reload", "ketamine-unanswered"}


def a_question(service: BotService) -> tuple[str, str]:
    entry = next(iter(service.knowledge.entries.values()))
    return entry.question, entry.id


async def read_privately(fake: FakeDiscord, service: BotService) -> tuple[dict[str, Any], str]:
    """``/ketamine`` with a canonical question, then as long as the cooldown to read the
    private answer: the message the answer is on, and its entry."""
    reading = ReadingTime(service)
    question, entry_id = a_question(service)
    await interact(fake, payloads.slash_command("ketamine", {"question": question}))
    reading.passes()
    return fake.messages[next(reversed(fake.messages))], entry_id


def buttons(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in data.get("components", []) for button in row["components"]]


async def test_sync_uploads_both_commands_with_their_options(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    await sync_commands(bot, None)

    [upload] = fake.sent("PUT", rf"/applications/{payloads.APPLICATION_ID}/commands")
    commands_by_name = {command["name"]: command for command in upload.body}
    assert set(commands_by_name) == ALL_COMMANDS
    ask = commands_by_name["ketamine"]
    assert ask["type"] == 1
    assert ask["dm_permission"] is True  # DMs are answered too
    assert ask["description"] == "Ask a question about the article on ketamine for PTSD"
    assert ask["options"] == [
        {
            "type": 3,
            "name": "question",
            "description": "Your question, in your own words",
            "required": False,
            "autocomplete": True,
        }
    ]
    sources = commands_by_name["ketamine-sources"]
    assert sources["description"] == "List every source the answers come from, with links"
    assert sources.get("options", []) == []


async def test_sync_to_one_server_when_a_guild_is_given(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    await sync_commands(bot, payloads.GUILD_ID)

    path = rf"/applications/{payloads.APPLICATION_ID}/guilds/{payloads.GUILD_ID}/commands"
    [upload] = fake.sent("PUT", path)
    assert {command["name"] for command in upload.body} == ALL_COMMANDS
    assert not fake.sent("PUT", rf"/applications/{payloads.APPLICATION_ID}/commands")


async def test_sources_command_answers_privately_with_every_link(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    callback = await interact(fake, payloads.slash_command("ketamine-sources"))

    assert callback.body["type"] == CHANNEL_MESSAGE
    data = callback.body["data"]
    assert data["flags"] == EPHEMERAL
    assert data["embeds"] == [render_reply(service.responder.sources()).to_dict()]
    assert data["allowed_mentions"] == NO_PINGS
    for source in service.knowledge.sources.values():
        assert (source.link or source.note) in embed_of(callback)["description"]


async def test_ketamine_command_answers_privately_with_a_share_button(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, entry_id = a_question(service)

    callback = await interact(fake, payloads.slash_command("ketamine", {"question": question}))

    assert callback.body["type"] == CHANNEL_MESSAGE
    data = callback.body["data"]
    assert data["flags"] == EPHEMERAL
    assert data["embeds"] == [render_reply(service.responder.respond(question)).to_dict()]
    assert data["allowed_mentions"] == NO_PINGS
    [share] = buttons(data)
    assert share["custom_id"] == f"ketamine:share:{entry_id}"
    assert share["label"] == service.knowledge.replies.interface.share_button


async def test_ketamine_command_in_a_dm_is_an_ordinary_message(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)
    command = payloads.slash_command(
        "ketamine", {"question": question}, guild=False, channel_id=payloads.next_id()
    )

    callback = await interact(fake, command)

    data = callback.body["data"]
    assert "flags" not in data or not data["flags"] & EPHEMERAL
    assert buttons(data) == []  # nothing to share: it is already the member's own DM
    assert embed_of(callback)["title"] == question


async def test_ketamine_without_a_question_explains_itself(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    callback = await interact(fake, payloads.slash_command("ketamine"))

    assert callback.body["data"]["embeds"] == [render_reply(service.responder.help()).to_dict()]


async def test_crisis_through_the_command_stays_private_and_alone(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    words = "i want to end my life"
    callback = await interact(fake, payloads.slash_command("ketamine", {"question": words}))

    data = callback.body["data"]
    assert data["flags"] == EPHEMERAL
    assert data["embeds"] == [render_reply(service.responder.crisis(words)).to_dict()]
    assert buttons(data) == []
    assert not fake.sent("POST", MESSAGES)


async def test_autocomplete_offers_at_most_25_canonical_questions(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    for typed in ("", "how fa", "side eff"):
        callback = await interact(fake, payloads.autocomplete("ketamine", "question", typed))

        assert callback.body["type"] == AUTOCOMPLETE_RESULT
        choices = callback.body["data"]["choices"]
        expected = [s.question for s in service.responder.suggest(typed, limit=25)]
        assert [choice["value"] for choice in choices] == expected
        assert 1 <= len(choices) <= 25
        assert all(1 <= len(choice["name"]) <= 100 for choice in choices)
        assert all(1 <= len(choice["value"]) <= 100 for choice in choices)


async def test_pressing_a_suggestion_under_a_public_reply_answers_in_public(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    [sent] = await post_message(fake, payloads.mention(clarifying_question(service)))
    first = buttons(sent.body)[0]
    posted = fake.messages[next(reversed(fake.messages))]
    entry_id = first["custom_id"].removeprefix("ketamine:ask:")

    press = payloads.button_press(posted, first["custom_id"], user_id=payloads.next_id())
    callback = await interact(fake, press)

    assert callback.body["type"] == CHANNEL_MESSAGE
    data = callback.body["data"]
    assert not data.get("flags")
    assert data["embeds"] == [render_reply(service.responder.answer(entry_id)).to_dict()]
    assert data["allowed_mentions"] == NO_PINGS


async def test_pressing_a_suggestion_under_a_private_reply_stays_private(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    clarify = clarifying_question(service)
    answered = await interact(fake, payloads.slash_command("ketamine", {"question": clarify}))
    reply = service.responder.respond(clarify)
    assert [b["custom_id"] for b in buttons(answered.body["data"])] == [
        f"ketamine:ask:{s.entry_id}" for s in reply.suggestions
    ]
    posted = fake.messages[next(reversed(fake.messages))]
    assert posted["flags"] == EPHEMERAL
    picked = reply.suggestions[-1]

    callback = await interact(
        fake, payloads.button_press(posted, f"ketamine:ask:{picked.entry_id}")
    )

    data = callback.body["data"]
    assert data["flags"] == EPHEMERAL
    assert data["embeds"] == [render_reply(service.responder.answer(picked.entry_id)).to_dict()]
    assert [b["custom_id"] for b in buttons(data)] == [f"ketamine:share:{picked.entry_id}"]


async def test_share_posts_the_answer_publicly_naming_who_shared_it(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    posted, entry_id = await read_privately(fake, service)

    callback = await interact(fake, payloads.button_press(posted, f"ketamine:share:{entry_id}"))

    data = callback.body["data"]
    assert not data.get("flags")
    member_name = payloads.user(payloads.MEMBER_ID)["username"]
    shared_by = service.knowledge.replies.interface.shared_by.replace("{user}", member_name)
    expected = render_reply(service.responder.answer(entry_id), shared_by=shared_by)
    assert data["embeds"] == [expected.to_dict()]
    assert data["embeds"][0]["author"] == {"name": shared_by}
    assert data["allowed_mentions"] == NO_PINGS


async def test_sharing_again_straight_away_is_held_back_privately(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    posted, entry_id = await read_privately(fake, service)
    shared = await interact(fake, payloads.button_press(posted, f"ketamine:share:{entry_id}"))
    assert not shared.body["data"].get("flags")

    again = await interact(fake, payloads.button_press(posted, f"ketamine:share:{entry_id}"))

    data = again.body["data"]
    assert data["flags"] == EPHEMERAL
    assert data["content"] == render_notice(service.knowledge.replies.interface.cooldown)


async def test_buttons_keep_working_after_a_restart(fake: FakeDiscord, service: BotService) -> None:
    first = standalone_bot()
    await first.add_cog(KetamineCog(first, service=service))
    async with connected(first, fake):
        [sent] = await post_message(fake, payloads.mention(clarifying_question(service)))
    posted = fake.messages[next(reversed(fake.messages))]
    button = buttons(sent.body)[-1]

    restarted = standalone_bot()
    await restarted.add_cog(KetamineCog(restarted, service=BotService(service.knowledge)))
    async with connected(restarted, fake):
        callback = await interact(fake, payloads.button_press(posted, button["custom_id"]))

    entry_id = button["custom_id"].removeprefix("ketamine:ask:")
    assert embed_of(callback)["title"] == service.knowledge.entries[entry_id].question


async def test_a_button_for_a_removed_entry_gets_help_not_an_error(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    await post_message(fake, payloads.mention("what dose should i take"))
    posted = dict(fake.messages[next(reversed(fake.messages))])
    posted["components"] = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 2, "label": "Gone?", "custom_id": "ketamine:ask:no-such-entry"}
            ],
        }
    ]

    press = payloads.button_press(posted, "ketamine:ask:no-such-entry", user_id=payloads.next_id())
    callback = await interact(fake, press)

    assert callback.body["data"]["embeds"] == [render_reply(service.responder.help()).to_dict()]
