"""Slash commands and buttons: empty acks, then ephemeral answers through response_url."""

from __future__ import annotations

import json
import re

from bot.adapters.slack.render import escape, render_blocks, render_shared, render_text
from bot.core.reply import Reply, ReplyKind, Suggestion
from bot.core.responder import Responder, Screened
from tests.slack.fake_slack import Call
from tests.slack.slack_requests import MEMBER, mention

NO_PREVIEWS = {"unfurl_links": False, "unfurl_media": False}


def response_posts(slack) -> list[Call]:
    return [call for call in slack.fake.calls if call.method == "response_url"]


async def test_sources_command_lists_every_source_privately(slack):
    url = slack.fake.response_url("sources")
    assert await slack.command("/ketamine-sources", "", url) == ""  # the ack shows nothing
    await slack.settle()

    reply = slack.service.responder.sources()
    [call] = response_posts(slack)
    assert call.path == "/response/sources"
    assert call.body == {
        "response_type": "ephemeral",
        "text": render_text(reply),
        "blocks": render_blocks(reply),
    }
    blocks = json.dumps(call.body["blocks"])
    for source in slack.service.knowledge.sources.values():  # its link, or why there is none
        if source.link:
            assert f"<{source.link}>" in blocks
        else:  # the note, with any web address in it made a live link
            note = escape(source.note or "")
            assert re.sub(r"(https?://\S+)", r"<\1>", note) in blocks
    assert slack.fake.deliveries == [call]  # nothing through the Web API


async def test_ketamine_command_answers_privately_with_a_share_button(slack):
    url = slack.fake.response_url("ask")
    assert await slack.command("/ketamine", "how fast does ketamine work?", url) == ""
    await slack.settle()

    reply = slack.service.responder.respond("how fast does ketamine work?")
    texts = slack.service.knowledge.replies.interface
    [call] = response_posts(slack)
    assert call.body == {
        "response_type": "ephemeral",
        "text": render_text(reply),
        "blocks": render_blocks(reply, share_label=texts.share_button, echo=True),
    }
    assert call.body["blocks"][0]["text"]["text"] == "> how fast does ketamine work?"
    share = call.body["blocks"][-2]
    assert share["elements"][0]["action_id"] == "ketamine_share"
    assert share["elements"][0]["value"] == "ketamine-speed"
    assert share["elements"][0]["text"]["text"] == texts.share_button


async def test_empty_ketamine_command_gives_short_help(slack):
    await slack.command("/ketamine", "   ", slack.fake.response_url())
    await slack.settle()
    reply = slack.service.responder.help()
    assert response_posts(slack)[0].body == {
        "response_type": "ephemeral",
        "text": render_text(reply),
        "blocks": render_blocks(reply),
    }


async def test_share_posts_the_same_answer_publicly_then_removes_the_private_copy(slack):
    url = slack.fake.response_url("share")
    await slack.click("ketamine_share", "ketamine-speed", url, ephemeral=True)
    await slack.settle()

    reply = slack.service.responder.answer("ketamine-speed")
    shared = render_shared(reply, MEMBER, slack.service.knowledge.replies.interface.shared_by)
    assert [call.body for call in response_posts(slack)] == [
        {"response_type": "in_channel", "replace_original": False, **shared, **NO_PREVIEWS},
        {"delete_original": True},
    ]
    assert shared["blocks"][0]["elements"][0]["text"] == "Shared by <@U456>"
    assert slack.fake.deliveries == response_posts(slack)


async def test_share_of_an_entry_gone_since_a_reload_gives_help_not_a_crash(slack):
    url = slack.fake.response_url("gone")
    await slack.click("ketamine_share", "no-such-entry", url, ephemeral=True)
    await slack.settle()
    reply = slack.service.responder.help()
    assert [call.body for call in response_posts(slack)] == [
        {
            "replace_original": True,
            "response_type": "ephemeral",
            "text": render_text(reply),
            "blocks": render_blocks(reply),
        }
    ]


class UnsureResponder(Responder):
    """The real responder, except that "which one?" always gets a "did you mean" reply.

    Which messages fall in the matcher's "did you mean" band depends on tuning done in
    the core; the adapter only has to render and act on such a reply, so pin one.
    """

    def finish(self, screened: Screened) -> Reply:
        message = screened.message
        if "which one?" not in message:
            return super().finish(screened)
        replies = self.knowledge.replies
        picks = ("session-length", "ketamine-speed", "risk-side-effects")
        return Reply(
            question=message,
            kind=ReplyKind.CLARIFY,
            title=replies.clarify_title,
            body=replies.clarify,
            disclaimer=replies.disclaimer,
            suggestions=tuple(
                Suggestion(entry_id, self.knowledge.entries[entry_id].question)
                for entry_id in picks
            ),
        )


def buttons_of(message: dict) -> list[dict]:
    return next(block for block in message["blocks"] if block["type"] == "actions")["elements"]


async def test_clarify_buttons_answer_the_picked_entry_in_place(slack):
    slack.service.responder = UnsureResponder(slack.service.knowledge)
    await slack.command("/ketamine", "which one?", slack.fake.response_url("ask"))
    await slack.settle()
    clarify = response_posts(slack)[0].body
    assert [(b["action_id"], b["value"]) for b in buttons_of(clarify)] == [
        ("ketamine_suggestion_0", "session-length"),
        ("ketamine_suggestion_1", "ketamine-speed"),
        ("ketamine_suggestion_2", "risk-side-effects"),
    ]
    picked = buttons_of(clarify)[1]

    await slack.click(
        picked["action_id"], picked["value"], slack.fake.response_url("pick"), ephemeral=True
    )
    await slack.settle()

    reply = slack.service.responder.answer("ketamine-speed")
    texts = slack.service.knowledge.replies.interface
    assert response_posts(slack)[1].path == "/response/pick"
    assert response_posts(slack)[1].body == {
        "replace_original": True,
        "text": render_text(reply),
        "blocks": render_blocks(reply, share_label=texts.share_button),  # still private: shareable
        **NO_PREVIEWS,
    }


async def test_clarify_in_a_public_thread_is_replaced_without_a_share_button(slack):
    slack.service.responder = UnsureResponder(slack.service.knowledge)
    await slack.send_event(mention("which one?"))
    await slack.settle()
    button = buttons_of(slack.fake.bodies("chat.postMessage")[0])[0]

    await slack.click(
        button["action_id"], button["value"], slack.fake.response_url("pick"), ephemeral=False
    )
    await slack.settle()
    reply = slack.service.responder.answer("session-length")
    assert response_posts(slack)[0].body == {
        "replace_original": True,
        "text": render_text(reply),
        "blocks": render_blocks(reply),
        **NO_PREVIEWS,
    }


async def test_a_suggestion_gone_since_a_reload_gives_help_in_place(slack):
    await slack.click("ketamine_suggestion_0", "gone", slack.fake.response_url(), ephemeral=True)
    await slack.settle()
    reply = slack.service.responder.help()
    assert response_posts(slack)[0].body == {
        "replace_original": True,
        "text": render_text(reply),
        "blocks": render_blocks(reply),
        **NO_PREVIEWS,
    }


async def test_crisis_through_the_command_stays_ephemeral_without_share_or_echo(slack):
    await slack.command("/ketamine", "i want to die", slack.fake.response_url("crisis"))
    await slack.settle()
    reply = slack.service.responder.respond("i want to die")
    assert [call.body for call in slack.fake.deliveries] == [
        {"response_type": "ephemeral", "text": render_text(reply), "blocks": render_blocks(reply)}
    ]
    assert "ketamine_share" not in json.dumps([call.body for call in slack.fake.calls])


async def test_cooled_down_command_gets_one_private_slow_down(slack):
    """Of three quick commands one is answered, one told to slow down, one gets nothing.

    The three are screened at once in the worker pool, so which of them reaches the
    cooldown first is up to the threads, not the order they were sent in.
    """
    for name in ("first", "second", "third"):
        await slack.command(
            "/ketamine", "how fast does ketamine work?", slack.fake.response_url(name)
        )
    await slack.settle()
    cooldown = slack.service.knowledge.replies.interface.cooldown
    posts = response_posts(slack)
    assert len(posts) == 2 and len({call.path for call in posts}) == 2
    slow_down = [call for call in posts if call.body.get("text") == cooldown]
    assert [call.body for call in slow_down] == [{"response_type": "ephemeral", "text": cooldown}]
    answered = next(call for call in posts if call not in slow_down)
    reply = slack.service.responder.respond("how fast does ketamine work?")
    assert answered.body["text"] == render_text(reply)


async def test_commands_are_acked_before_the_answer_is_sent(slack):
    gate = slack.fake.hold("response_url")
    assert (
        await slack.command("/ketamine", "how fast does ketamine work?", slack.fake.response_url())
        == ""
    )
    await slack.fake.wait_for(lambda: len(response_posts(slack)) == 1)
    gate.set()
    await slack.settle()


async def test_sharing_again_right_away_gets_one_private_slow_down(slack):
    for name in ("first", "second", "third"):
        await slack.click(
            "ketamine_share", "ketamine-speed", slack.fake.response_url(name), ephemeral=True
        )
        await slack.settle()
    cooldown = slack.service.knowledge.replies.interface.cooldown
    posts = [(call.path, call.body.get("response_type")) for call in response_posts(slack)]
    assert posts == [
        ("/response/first", "in_channel"),
        ("/response/first", None),  # delete_original
        ("/response/second", "ephemeral"),  # slow down (third: silence)
    ]
    assert response_posts(slack)[2].body == {
        "replace_original": False,
        "response_type": "ephemeral",
        "text": cooldown,
    }
