"""The renderers are pure ``Reply -> dict`` functions: assert the exact Block Kit they build."""

from __future__ import annotations

import pytest

from bot.adapters.slack.render import (
    BUTTON_TEXT_LIMIT,
    MESSAGE_BLOCKS_LIMIT,
    TEXT_LIMIT,
    CheckInOrigin,
    escape,
    render_blocks,
    render_home,
    render_message,
    render_notice,
    render_shared,
    render_text,
)
from bot.core.reply import ReplyKind, Suggestion
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase
from tests.render_samples import (
    DISCLAIMER,
    STUDY,
    answer,
    check_in,
    clarify,
    crisis,
    make_reply,
    sources,
)
from tests.slack.blocks import check_in_buttons

DISCLAIMER_BLOCK = {"type": "context", "elements": [{"type": "mrkdwn", "text": DISCLAIMER}]}
SUGGESTION_BUTTONS = {  # the Block Kit of render_samples.SUGGESTIONS, in clarify and not_covered
    "type": "actions",
    "block_id": "ketamine_suggestions",
    "elements": [
        {
            "type": "button",
            "action_id": "ketamine_suggestion_0",
            "text": {"type": "plain_text", "text": "How *fast*?", "emoji": True},
            "value": "speed",
        },
        {
            "type": "button",
            "action_id": "ketamine_suggestion_1",
            "text": {"type": "plain_text", "text": "Dose &amp; &lt;timing&gt;?", "emoji": True},
            "value": "dose",
        },
    ],
}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_answer_renders_every_part_in_order():
    assert render_blocks(answer()) == [
        section("*How fast does it work?*"),
        section("Within hours for some people."),
        section("*Worth knowing:* The study did not measure hours."),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Source:\n• The article\n"
                    "• <https://doi.org/10.1/x&amp;y|Smith &amp; Jones (2024)>",
                }
            ],
        },
        DISCLAIMER_BLOCK,
    ]


def test_text_fallback_is_the_core_text_escaped():
    reply = answer()
    assert render_text(reply) == escape(reply.text)
    assert "Smith &amp; Jones (2024) https://doi.org/10.1/x&amp;y" in render_text(reply)
    assert render_text(reply).endswith(DISCLAIMER)


def test_share_button_and_echo_for_a_private_answer():
    blocks = render_blocks(
        answer(question="<!channel> how fast\nreally?"), share_label="Share", echo=True
    )
    assert blocks[0] == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "> &lt;!channel&gt; how fast\n> really?",
            "verbatim": True,
        },
    }
    assert blocks[-2] == {
        "type": "actions",
        "block_id": "ketamine_share",
        "elements": [
            {
                "type": "button",
                "action_id": "ketamine_share",
                "text": {"type": "plain_text", "text": "Share", "emoji": True},
                "value": "speed",
                "style": "primary",
            }
        ],
    }
    assert blocks[-1] == DISCLAIMER_BLOCK


@pytest.mark.parametrize(
    "kind",
    [
        ReplyKind.CLARIFY,
        ReplyKind.ADVICE,
        ReplyKind.FALLBACK,
        ReplyKind.HELP,
        ReplyKind.NOT_COVERED,
        ReplyKind.CHECK_IN,
    ],
)
def test_only_answers_can_be_shared(kind: ReplyKind):
    blocks = render_blocks(answer(kind=kind), share_label="Share")
    assert all(block.get("block_id") != "ketamine_share" for block in blocks)


def test_clarify_offers_each_suggestion_as_a_button():
    assert render_blocks(clarify()) == [
        section("*Did you mean one of these?*"),
        section("Pick the closest one:"),
        SUGGESTION_BUTTONS,
        DISCLAIMER_BLOCK,
    ]


def test_advice_shows_its_label_before_the_related_question():
    advice = make_reply(
        ReplyKind.ADVICE,
        suggestions=(Suggestion("dose", "What dose did the study use?"),),
        suggestions_label="A related question:",
    )
    blocks = render_blocks(advice)
    assert blocks[2] == section("A related question:")
    assert blocks[3]["elements"][0]["value"] == "dose"


def test_crisis_puts_resources_right_after_the_title_and_never_echoes():
    assert render_blocks(crisis(), share_label="Share", echo=True) == [
        section("*Please reach out:*"),
        section("• Call or text 988.\n• See <https://findahelpline.com>."),
        section("I'm a bot, not a crisis service."),
        DISCLAIMER_BLOCK,
    ]


def test_check_in_asks_after_the_resources_with_two_buttons_that_carry_the_place():
    origin = CheckInOrigin("channel", "C789", "1700000000.000001", "1700000000.000002", "speed")
    value = (
        '{"where":"channel","channel":"C789","thread":"1700000000.000001",'
        '"message":"1700000000.000002","entry":"speed"}'
    )
    assert render_blocks(check_in(), share_label="Share", echo=True, check_in=origin) == [
        section("*Checking in with you, privately*"),
        section("I might be reading you wrong &amp; I'm sorry if so."),
        section("• Call or text 988.\n• See <https://findahelpline.com>."),
        section("*Are you thinking about suicide or about hurting yourself?*"),
        check_in_buttons(value),
        DISCLAIMER_BLOCK,
    ]


def test_check_in_without_a_place_has_no_buttons_and_never_shows_the_members_words():
    blocks = render_blocks(check_in(), echo=True)
    assert [block["type"] for block in blocks] == ["section"] * 4 + ["context"]
    assert "private words" not in str(render_message(check_in(), echo=True))


def test_check_in_origin_reads_back_only_what_the_bot_wrote():
    origin = CheckInOrigin("dm", "D111", "1700000000.000001", entry_id="speed")
    assert CheckInOrigin.from_value(origin.to_value()) == origin
    assert CheckInOrigin.from_value(CheckInOrigin("command", "C789").to_value()) == CheckInOrigin(
        "command", "C789"
    )
    for forged in (
        "",
        "[]",
        '{"where":"dm"}',
        '{"where":"dm","channel":"<!channel>"}',
        '{"where":"dm","channel":"D111","thread":"soon"}',
        '{"where":"dm","channel":"D111","entry":"Not An Id"}',
        '{"where":"public","channel":"C789"}',
    ):
        assert CheckInOrigin.from_value(forged) is None, forged


def test_not_covered_is_rendered_like_a_clarify_text_and_suggestion_buttons():
    not_covered = clarify(
        question="does ketamine help with ocd",
        kind=ReplyKind.NOT_COVERED,
        title="The article doesn't cover that",
        body="It is about PTSD; these are the closest things it does cover:",
    )
    feedback = ("Helpful", "Not helpful")
    assert render_message(not_covered, share_label="Share", feedback=feedback) == {
        "text": render_text(not_covered),
        "blocks": [
            section("*The article doesn't cover that*"),
            section("It is about PTSD; these are the closest things it does cover:"),
            SUGGESTION_BUTTONS,
            DISCLAIMER_BLOCK,
        ],
    }
    assert "1. How *fast*?" in render_text(not_covered)


def test_sources_list_every_full_reference_with_a_live_link():
    assert render_blocks(sources()) == [
        section("*Where the answers come from*"),
        section("Every answer comes from these sources:"),
        section(
            "• The article, in full. No link of its own.\n"
            "• Smith, A. &amp; Jones, B. (2024). A study. <https://doi.org/10.1/x&amp;y>"
        ),
        DISCLAIMER_BLOCK,
    ]


def test_shared_answer_names_the_sharer_but_not_their_question():
    reply = answer(question="my own private words")
    shared = render_shared(reply, "U456", "Shared by {user} & co")
    assert shared["blocks"][0] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Shared by <@U456> &amp; co"}],
    }
    assert shared["blocks"][1:] == render_blocks(reply)
    assert shared["text"] == f"Shared by <@U456> &amp; co\n\n{render_text(reply)}"
    assert "private words" not in str(shared)


def test_a_malformed_user_id_is_never_a_live_mention():
    shared = render_shared(answer(), "<!channel>", "Shared by {user}")
    assert shared["blocks"][0]["elements"][0]["text"] == "Shared by &lt;!channel&gt;"


def test_notice_is_escaped_text_only():
    assert render_notice("Slow down <now> & wait") == {"text": "Slow down &lt;now&gt; &amp; wait"}


def test_message_is_text_and_blocks():
    reply = answer()
    assert render_message(reply) == {"text": render_text(reply), "blocks": render_blocks(reply)}


def test_long_text_is_split_within_slack_limits_without_losing_words():
    body = " ".join(f"word{n}" for n in range(2000))  # about 15,000 characters, one line
    blocks = render_blocks(answer(body=body, note=None, citations=()))
    body_blocks = blocks[1:-1]
    assert len(body_blocks) > 1
    assert all(len(block["text"]["text"]) <= TEXT_LIMIT for block in body_blocks)
    assert " ".join(block["text"]["text"] for block in body_blocks).split() == body.split()


def test_a_long_suggestion_is_cut_to_fit_a_button():
    question = "Why " + "very " * 30 + "long?"
    reply = answer(kind=ReplyKind.CLARIFY, suggestions=(Suggestion("long", question),))
    button = next(b for b in render_blocks(reply) if b["type"] == "actions")["elements"][0]
    assert len(button["text"]["text"]) <= BUTTON_TEXT_LIMIT
    assert button["text"]["text"].endswith("…")


def test_home_tab_has_help_sources_pointer_and_one_disclaimer():
    about = make_reply(ReplyKind.HELP, title="Ask me", body="How to ask.")
    listed = sources(title="Sources", body="These:", items=(STUDY.full_line,), citations=(STUDY,))
    assert render_home(about, listed, "Call 988 <now>") == {
        "type": "home",
        "blocks": [
            section("*Ask me*"),
            section("How to ask."),
            {"type": "divider"},
            section("*Sources*"),
            section("These:"),
            section("• Smith, A. &amp; Jones, B. (2024). A study. <https://doi.org/10.1/x&amp;y>"),
            {"type": "divider"},
            section("Call 988 &lt;now&gt;"),
            DISCLAIMER_BLOCK,
        ],
    }


def test_every_shipped_entry_fits_slack_limits(knowledge: KnowledgeBase):
    """The shipped knowledge base, rendered whole: every text and button within Slack's limits."""
    responder = Responder(knowledge)
    replies = [responder.answer(entry_id) for entry_id in knowledge.entries]
    replies += [responder.sources(), responder.help(), responder.respond("I want to kill myself")]
    for reply in replies:
        blocks = render_blocks(
            reply, share_label=knowledge.replies.interface.share_button, echo=True
        )
        assert len(blocks) <= MESSAGE_BLOCKS_LIMIT
        for block in blocks:
            texts = [block["text"]] if "text" in block else block.get("elements", [])
            for text in texts:
                label = text["text"] if isinstance(text["text"], str) else text["text"]["text"]
                limit = BUTTON_TEXT_LIMIT if text.get("type") == "button" else TEXT_LIMIT
                assert 0 < len(label) <= limit, (reply.entry_id, block)
