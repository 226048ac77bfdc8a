"""The safety screen: floor phrases, the check-in band, cooldown order, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.cooldown import Verdict
from bot.core.reply import OTHER, SUPPORT, ReplyKind
from bot.core.responder import Responder
from bot.core.safety import Concern
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, load_knowledge


def with_thresholds(folder: Path, **thresholds: float) -> KnowledgeBase:
    """The knowledge copy with the crisis detector's bands moved (deterministic tests)."""
    path = folder / "models" / "crisis.json"
    detector = json.loads(path.read_text())
    detector["thresholds"].update(thresholds)
    path.write_text(json.dumps(detector))
    return load_knowledge(folder)


@pytest.fixture()
def unsure(folder: Path) -> KnowledgeBase:
    """Every message the floor does not catch lands in the check-in band."""
    return with_thresholds(folder, check_in=0.0, crisis=1.0)


@pytest.fixture()
def calm(folder: Path) -> KnowledgeBase:
    """The detector never fires: only the floor of phrases can raise a crisis."""
    return with_thresholds(folder, check_in=1.0, crisis=1.0)


@pytest.mark.parametrize(
    "message",
    [
        "i want to kill myself",
        "honestly thinking about ending my life",
        "KMS",
        "quiero morir",
        "je veux mourir",
        "ich will sterben",
        "quero morrer",
        "i'm feeling suicidal again",
    ],
)
def test_unmistakable_phrases_are_a_crisis_whatever_the_model_says(
    calm: KnowledgeBase, message: str
):
    reply = Responder(calm).respond(message)
    assert reply.kind is ReplyKind.CRISIS
    assert reply.text.index("988") < reply.text.index("not a crisis service")


def test_a_check_in_asks_kindly_carries_the_resources_and_offers_two_choices(unsure: KnowledgeBase):
    responder = Responder(unsure)
    reply = responder.respond("what is the pcl-5")
    check_in = unsure.safety.check_in
    assert reply.kind is ReplyKind.CHECK_IN
    assert reply.entry_id == "pcl5-what-is-it"  # what "No" will answer with
    for part in (check_in.title, check_in.question, "116 123", "741741", unsure.replies.disclaimer):
        assert part in reply.text
    assert f"[{check_in.yes_button}]" in reply.text and f"[{check_in.no_button}]" in reply.text
    contract = reply.to_json()
    assert contract["kind"] == "check_in"
    assert contract["choices"] == [
        {"id": "support", "label": "Yes, I'd like support"},
        {"id": "other", "label": "No, I was asking about something else"},
    ]
    assert contract["citations"] == []  # no answer is given before the member chooses


def test_the_members_choice_gives_support_or_the_answer_they_asked_for(unsure: KnowledgeBase):
    responder = Responder(unsure)
    assert responder.after_check_in(SUPPORT, "pcl5-what-is-it").kind is ReplyKind.CRISIS
    answer = responder.after_check_in(OTHER, "pcl5-what-is-it")
    assert answer.kind is ReplyKind.ANSWER and answer.entry_id == "pcl5-what-is-it"
    assert responder.after_check_in(OTHER, None).kind is ReplyKind.HELP
    assert responder.after_check_in(OTHER, "an-entry-that-left").kind is ReplyKind.HELP


def test_a_check_in_wins_over_advice_and_remembers_the_advice_topic(unsure: KnowledgeBase):
    responder = Responder(unsure)
    screened = responder.screen("can i mix ketamine with my zoloft")
    assert screened.verdict is not None and screened.verdict.concern is Concern.CHECK_IN
    assert screened.verdict.topic is not None and screened.verdict.topic.id == "own-medicines"
    check_in = responder.finish(screened)
    assert check_in.kind is ReplyKind.CHECK_IN
    assert check_in.to_json()["entry_id"] == "own-medicines"  # what "No" leads to
    assert responder.screen("what is the pcl-5").verdict.topic is None


def test_no_after_a_check_in_on_a_medical_question_gives_the_advice_never_an_answer(
    unsure: KnowledgeBase,
):
    responder = Responder(unsure)
    check_in = responder.respond("can i mix ketamine with my zoloft")
    reply = responder.after_check_in(OTHER, check_in.entry_id)
    own_medicines = next(t for t in unsure.safety.advice.topics if t.id == "own-medicines")
    assert reply.kind is ReplyKind.ADVICE
    assert own_medicines.why in reply.text and unsure.safety.advice.pointer in reply.text
    assert unsure.replies.disclaimer in reply.text


def test_cooldown_skips_matching_but_never_holds_back_a_crisis_or_check_in(calm: KnowledgeBase):
    service = BotService(calm)
    asked = []
    service.listeners.append(asked.append)
    first = service.ask("what is the pcl-5", platform="slack", member="U1")
    assert first.reply is not None and first.reply.kind is ReplyKind.ANSWER
    assert service.ask("what is ptsd", platform="slack", member="U1").cooldown is Verdict.WARN
    assert service.ask("what is ptsd", platform="slack", member="U1").cooldown is Verdict.SILENT
    crisis = service.ask("i want to kill myself", platform="slack", member="U1")
    assert crisis.reply is not None and crisis.reply.kind is ReplyKind.CRISIS
    # held-back messages cost no storage or metrics: listeners saw two replies, not four
    assert [event.reply.kind for event in asked] == [ReplyKind.ANSWER, ReplyKind.CRISIS]
    assert asked[1].message is None  # a crisis message's text is never handed on


def test_a_check_in_is_never_held_back_by_the_cooldown(unsure: KnowledgeBase):
    service = BotService(unsure)
    for _ in range(3):
        outcome = service.ask("what is the pcl-5", platform="discord", member="discord:1")
        assert outcome.reply is not None and outcome.reply.kind is ReplyKind.CHECK_IN


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "😭😭😭",
        "🙂",
        "x" * 100_000,
        "ありがとう",
        "\u200b\u200b",
        "<@123456789012345678>",
    ],
    ids=["empty", "spaces", "emoji", "one-emoji", "100kb", "japanese", "zero-width", "mention"],
)
def test_bad_input_never_crashes_and_still_passes_the_screen(responder: Responder, message: str):
    reply = responder.finish(responder.screen(message))
    assert reply.disclaimer in reply.text


def test_emoji_only_and_foreign_messages_are_encoded_not_skipped(responder: Responder):
    for message in ("😭😭😭", "ありがとう", "x" * 100_000):
        assert responder.screen(message).vectors.shape[0] >= 1


def test_distress_at_the_end_of_a_very_long_message_is_still_seen(calm: KnowledgeBase):
    story = "my infusions are on tuesdays and the drive is long. " * 2_000
    reply = Responder(calm).respond(story + " honestly i want to kill myself")
    assert reply.kind is ReplyKind.CRISIS
