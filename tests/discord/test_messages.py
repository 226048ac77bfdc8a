"""Mentions and DMs through the real discord.py client: assert the JSON it sends."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from bot.adapters.discord import KetamineCog
from bot.adapters.discord.render import render_notice, render_plain, render_reply
from bot.adapters.discord.runner import bot_intents
from bot.core.service import Asked, BotService
from tests.discord import payloads
from tests.discord.conftest import (
    MESSAGES,
    advice_question,
    connected,
    embed_of,
    post_message,
    text_of,
)
from tests.discord.fake_discord import FakeDiscord

NO_PINGS = {"parse": [], "replied_user": False}
CRISIS_WORDS = "i cant go on, i want to end my life tonight"


def a_question(service: BotService) -> tuple[str, Any]:
    """A canonical question and the entry it answers (matching details are the core's job)."""
    entry = next(
        e
        for e in service.knowledge.entries.values()
        if e.caveat and e.sources and service.responder.respond(e.question).entry_id == e.id
    )  # the screen's false alarms on knowledge wordings are test_shipped_knowledge's to show
    return entry.question, entry


async def test_identify_asks_for_no_privileged_intent(fake: FakeDiscord, bot: commands.Bot) -> None:
    [identify] = fake.identifies

    assert identify["intents"] == 1 | 1 << 9 | 1 << 12  # guilds, guild and DM messages
    assert not identify["intents"] & 1 << 15  # message_content is privileged: not needed
    assert identify["token"] == fake.token


async def test_mention_gets_an_embed_reply_that_pings_nobody(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, entry = a_question(service)
    asked = payloads.mention(question)

    [sent] = await post_message(fake, asked)

    assert sent.path == f"/channels/{payloads.CHANNEL_ID}/messages"
    body = sent.body
    assert body["embeds"] == [render_reply(service.responder.respond(question)).to_dict()]
    embed = embed_of(sent)
    assert embed["title"] == entry.question
    assert embed["footer"]["text"] == service.knowledge.replies.disclaimer
    source = service.knowledge.sources[entry.sources[-1]]
    assert any(source.short in f["value"] for f in embed["fields"])
    assert body["message_reference"]["message_id"] == int(asked["id"])
    assert body["message_reference"]["fail_if_not_exists"] is False
    assert body["allowed_mentions"] == NO_PINGS
    assert body["content"] is None
    assert body["components"] == []


async def test_dm_is_answered_without_a_mention(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)
    dm_channel = payloads.next_id()

    [sent] = await post_message(fake, payloads.direct_message(question, channel_id=dm_channel))

    assert sent.path == f"/channels/{dm_channel}/messages"
    assert sent.body["embeds"] == [render_reply(service.responder.respond(question)).to_dict()]
    assert sent.body["allowed_mentions"] == NO_PINGS
    assert "guild_id" not in sent.body["message_reference"]


async def test_bots_itself_and_unaddressed_messages_are_ignored(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)
    ignored = [
        payloads.mention(question, author_is_bot=True),
        payloads.mention(question, author_id=payloads.BOT_ID, author_is_bot=True),
        payloads.message(question, mentions_bot=False),
        # a reply that pings the bot but does not name it in the text
        payloads.message(question, mentions_bot=True),
        dict(payloads.message(f"@everyone {question}", mentions_bot=False), mention_everyone=True),
    ]
    for data in ignored:
        await fake.dispatch("MESSAGE_CREATE", data)
    answered = payloads.mention(question, author_id=payloads.next_id())

    [sent] = await post_message(fake, answered)

    assert sent.body["message_reference"]["message_id"] == int(answered["id"])
    assert len(fake.sent("POST", MESSAGES)) == 1


async def test_a_message_not_for_the_bot_starts_no_work(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    asked: list[Asked] = []
    service.listeners.append(asked.append)
    cog = bot.get_cog("Ketamine")
    assert isinstance(cog, KetamineCog)
    question, _ = a_question(service)
    for number in range(50):
        chatter = payloads.message(f"{question} ({number})", mentions_bot=False)
        await fake.dispatch("MESSAGE_CREATE", chatter)
    answered = payloads.mention(question, author_id=payloads.next_id())

    [sent] = await post_message(fake, answered)

    assert sent.body["message_reference"]["message_id"] == int(answered["id"])
    assert len(fake.sent("POST", MESSAGES)) == 1
    assert [event.member for event in asked] == [f"discord:{answered['author']['id']}"]
    assert await cog.work.drain(5)
    assert cog.work.started == 1  # only the mention was taken up as work


async def test_mentioning_the_bots_role_counts_as_a_mention(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)
    data = payloads.message(f"<@&{payloads.BOT_ROLE_ID}> {question}", mentions_bot=False)
    data["mention_roles"] = [str(payloads.BOT_ROLE_ID)]

    [sent] = await post_message(fake, data)

    assert sent.body["embeds"][0]["title"] == a_question(service)[1].question


async def test_cooldown_tells_a_member_once_then_stays_quiet(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)
    notice = render_notice(service.knowledge.replies.interface.cooldown)

    [first] = await post_message(fake, payloads.mention(question))
    [second] = await post_message(fake, payloads.mention(question))
    await fake.dispatch("MESSAGE_CREATE", payloads.mention(question))  # said nothing more
    [other] = await post_message(fake, payloads.mention(question, author_id=payloads.next_id()))

    assert first.body["embeds"]
    assert second.body["content"] == notice
    assert "embeds" not in second.body
    assert second.body["allowed_mentions"] == NO_PINGS
    assert other.body["embeds"]
    assert len(fake.sent("POST", MESSAGES)) == 3


async def test_crisis_in_a_channel_goes_to_dms_and_the_channel_sees_only_a_pointer(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    interface = service.knowledge.replies.interface
    since = len(fake.requests)

    await fake.dispatch("MESSAGE_CREATE", payloads.mention(CRISIS_WORDS))
    await fake.wait_for_request("POST", MESSAGES, since=since, count=2)

    [opened] = fake.sent("POST", r"/users/@me/channels", since=since)
    assert opened.body == {"recipient_id": payloads.MEMBER_ID}
    dm_channel = fake.dm_channel_of(payloads.MEMBER_ID)
    private, public = fake.sent("POST", MESSAGES, since=since)
    assert private.path == f"/channels/{dm_channel}/messages"
    crisis = service.responder.crisis(CRISIS_WORDS)
    assert private.body["embeds"] == [render_reply(crisis).to_dict()]
    assert embed_of(private)["description"].startswith(f"- {crisis.items[0]}")
    assert private.body["allowed_mentions"] == {"parse": []}
    assert public.path == f"/channels/{payloads.CHANNEL_ID}/messages"
    assert public.body["content"] == render_notice(interface.crisis_sent_privately)
    assert "embeds" not in public.body
    assert public.body["allowed_mentions"] == NO_PINGS
    for word in ("end my life", "tonight", "go on"):
        assert word not in text_of(public)


async def test_crisis_with_dms_closed_gets_a_brief_public_pointer(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    fake.dm_closed.add(payloads.MEMBER_ID)
    since = len(fake.requests)

    await fake.dispatch("MESSAGE_CREATE", payloads.mention(CRISIS_WORDS))
    [refused, public] = await fake.wait_for_request("POST", MESSAGES, since=since, count=2)

    assert refused.path == f"/channels/{fake.dm_channel_of(payloads.MEMBER_ID)}/messages"
    assert public.path == f"/channels/{payloads.CHANNEL_ID}/messages"
    pointer = service.knowledge.replies.interface.crisis_public_pointer
    assert public.body["content"] == render_notice(pointer)
    assert "embeds" not in public.body
    assert public.body["allowed_mentions"] == NO_PINGS
    for word in ("end my life", "tonight", "go on"):
        assert word not in text_of(public)


async def test_crisis_is_never_held_back_by_the_cooldown(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)
    await post_message(fake, payloads.mention(question))

    private, public = await post_message(fake, payloads.mention(CRISIS_WORDS), count=2)

    assert embed_of(private)["title"] == service.responder.crisis("").title
    assert public.body["content"] == render_notice(
        service.knowledge.replies.interface.crisis_sent_privately
    )


async def test_crisis_in_a_dm_is_answered_right_there(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    dm_channel = payloads.next_id()

    [sent] = await post_message(fake, payloads.direct_message(CRISIS_WORDS, channel_id=dm_channel))

    assert sent.path == f"/channels/{dm_channel}/messages"
    assert sent.body["embeds"] == [render_reply(service.responder.crisis("")).to_dict()]
    assert not fake.sent("POST", r"/users/@me/channels")


async def test_channel_without_embed_links_gets_plain_text_with_every_part(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question, _ = a_question(service)

    [sent] = await post_message(
        fake, payloads.mention(question, channel_id=payloads.NO_EMBED_CHANNEL_ID)
    )

    reply = service.responder.respond(question)
    assert sent.body["content"] == render_plain(reply)
    assert "embeds" not in sent.body
    assert service.knowledge.replies.disclaimer in sent.body["content"]
    assert sent.body["allowed_mentions"] == NO_PINGS


async def test_suggestions_come_with_buttons(
    fake: FakeDiscord, bot: commands.Bot, service: BotService
) -> None:
    question = advice_question(service)
    reply = service.responder.respond(question)

    [sent] = await post_message(fake, payloads.mention(question))

    [row] = sent.body["components"]
    assert [button["custom_id"] for button in row["components"]] == [
        f"ketamine:ask:{s.entry_id}" for s in reply.suggestions
    ]


async def test_a_host_bot_keeps_its_own_commands(fake: FakeDiscord, service: BotService) -> None:
    host = commands.Bot(
        command_prefix=commands.when_mentioned_or("!"),
        intents=bot_intents(),
        guild_ready_timeout=0.02,
        help_command=None,
    )

    @host.command(name="ping")
    async def ping(context: commands.Context[commands.Bot]) -> None:
        await context.send("pong")

    await host.add_cog(KetamineCog(host, service=service))
    question, entry = a_question(service)
    async with connected(host, fake):
        [pong] = await post_message(fake, payloads.mention("ping"))
        [answer] = await post_message(
            fake, payloads.mention(question, author_id=payloads.next_id())
        )

    assert pong.body["content"] == "pong"
    assert answer.body["embeds"][0]["title"] == entry.question


async def test_the_cog_loads_the_default_knowledge_base_by_itself(fake: FakeDiscord) -> None:
    host = commands.Bot(command_prefix="!", intents=discord.Intents.none())

    await host.load_extension("bot.adapters.discord")

    cog = host.get_cog("Ketamine")
    assert isinstance(cog, KetamineCog)
    assert cog.service.knowledge.entries
    assert {command.name for command in host.tree.get_commands()} == {
        "ketamine",
        "ketamine-sources",
        "ketamine-reload",
        "ketamine-unanswered",
    }
    await host.close()
