"""What a member reads for each kind of reply."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase

DOSE = re.compile(r"\d\s*(mg|milligram|ml)\b|mg\s*/\s*kg", re.IGNORECASE)


def test_answer_carries_answer_caveat_citation_and_disclaimer(
    responder: Responder, knowledge: KnowledgeBase
):
    reply = responder.respond("how fast does ketamine work for ptsd")
    entry = knowledge.entries["ketamine-speed"]
    assert reply.kind is ReplyKind.ANSWER
    assert reply.entry_id == "ketamine-speed"
    assert reply.text == "\n\n".join(
        [
            entry.question,
            entry.answer,
            f"Worth knowing: {entry.caveat}",
            "Source:\n"
            + "\n".join(
                f"- {knowledge.sources[s].short}"
                + (f" {knowledge.sources[s].link}" if knowledge.sources[s].link else "")
                for s in entry.sources
            ),
            knowledge.replies.disclaimer,
        ]
    )
    assert "https://doi.org/10.1177/02698811241286726" in reply.text


def test_crisis_reply_puts_resources_first_and_never_answers(
    responder: Responder, knowledge: KnowledgeBase
):
    reply = responder.respond("I want to end my life")
    crisis = knowledge.safety.crisis
    assert reply.kind is ReplyKind.CRISIS
    assert reply.entry_id is None and reply.citations == () and reply.suggestions == ()
    lines = reply.text.split("\n")
    assert lines[0] == crisis.title
    assert lines[2 : 2 + len(crisis.resources)] == [f"- {r}" for r in crisis.resources]
    assert "988" in lines[2] and "116 123" in reply.text and "741741" in reply.text
    assert "not a crisis service" in reply.text
    assert reply.text.endswith(knowledge.replies.disclaimer)


@pytest.mark.parametrize(
    "message",
    [
        "everyone would be better off without me",
        "ive been saving up my pills",
        "kms",
        "does ketamine help if i want to kill myself",
        "i'm suicidal",
        "I want to e\u200bnd my life",  # zero-width space hidden in a word
        "ＫＭＳ",  # full-width letters
        "feeling suicdal tonight",  # a typo
    ],
)
def test_crisis_language_is_caught(responder: Responder, message: str):
    assert responder.respond(message).kind is ReplyKind.CRISIS


@pytest.mark.parametrize(
    "message, topic",
    [
        ("how much ketamine should i take", "dose"),
        ("can i mix ketamine with my zoloft", "own-medicines"),
        ("should i stop taking my meds to try ketamine", "stopping-medicines"),
        ("is ketamine safe if im pregnant", "pregnancy"),
        ("where can i buy ketamine online", "sourcing"),
    ],
)
def test_personal_medical_questions_get_advice_never_a_dose(
    responder: Responder, message: str, topic: str
):
    reply = responder.respond(message)
    assert reply.kind is ReplyKind.ADVICE
    assert reply.topic == topic
    assert "prescriber or clinician" in reply.text
    assert not DOSE.search(reply.text)
    assert reply.entry_id is None


def test_advice_offers_the_related_general_entry(responder: Responder):
    reply = responder.respond("what dose should i take")
    assert [s.entry_id for s in reply.suggestions] == ["study-dose"]
    assert (
        "A related general question I can answer:\n1. What dose of ketamine did the study use?"
        in reply.text
    )


def test_crisis_wins_over_advice(responder: Responder):
    assert (
        responder.respond("how many of my pills would it take to not wake up").kind
        is ReplyKind.CRISIS
    )


def test_research_mention_is_not_a_crisis(responder: Responder):
    reply = responder.respond("did people with suicidal thoughts in the study do worse")
    assert reply.kind is not ReplyKind.CRISIS


def test_off_topic_gets_fallback_that_says_what_the_bot_covers(
    responder: Responder, knowledge: KnowledgeBase
):
    reply = responder.respond("how do i bake banana bread")
    assert reply.kind is ReplyKind.FALLBACK
    assert reply.text == "\n\n".join(
        [knowledge.replies.fallback_title, knowledge.replies.fallback, knowledge.replies.disclaimer]
    )
    assert "/ketamine-sources" in reply.text


@pytest.mark.parametrize(
    "question", ["best recipe for banana pancakes", "what time does the hardware store close"]
)
def test_off_topic_that_scores_by_meaning_alone_gets_no_did_you_mean(
    responder: Responder, knowledge: KnowledgeBase, question: str
):
    reply = responder.respond(question)
    assert reply.kind is ReplyKind.FALLBACK
    # by meaning it scores like a vague question; only the shared-words floor says no
    assert reply.score is not None and reply.score >= knowledge.matching.clarify_at
    no_floor = knowledge.matching.model_copy(update={"clarify_words_at": 0})
    ungated = Responder(dataclasses.replace(knowledge, matching=no_floor)).respond(question)
    # without it, meaning alone would offer entries: as a did-you-mean, or as the buttons
    # of a not-covered topic it comes near ("best albums for a session")
    assert ungated.kind in (ReplyKind.CLARIFY, ReplyKind.NOT_COVERED)
    assert ungated.suggestions


def test_vague_question_gets_up_to_three_suggestions(responder: Responder):
    reply = responder.respond("ketamine")
    assert reply.kind is ReplyKind.CLARIFY
    assert 1 <= len(reply.suggestions) <= 3
    for number, suggestion in enumerate(reply.suggestions, start=1):
        assert f"{number}. {suggestion.question}" in reply.text


@pytest.mark.parametrize("message", ["", "   ", "\u200b", "<@123456>", "hi", "help"])
def test_empty_or_greeting_gets_short_help(responder: Responder, message: str):
    reply = responder.respond(message)
    assert reply.kind is ReplyKind.HELP
    assert "sources" in reply.text


def test_sources_lists_every_source_with_its_link(responder: Responder, knowledge: KnowledgeBase):
    reply = responder.sources()
    assert reply.kind is ReplyKind.SOURCES
    assert len(reply.citations) == len(knowledge.sources)
    for source in knowledge.sources.values():
        assert source.reference in reply.text
        assert (source.link or source.note) in reply.text
    assert responder.respond("sources").text == reply.text


def test_picking_a_suggestion_answers_that_entry(responder: Responder, knowledge: KnowledgeBase):
    reply = responder.answer("study-remission")
    assert reply.kind is ReplyKind.ANSWER
    assert knowledge.entries["study-remission"].answer in reply.text


def test_autocomplete_suggests_canonical_questions(responder: Responder):
    suggestions = responder.suggest("side eff")
    assert 1 <= len(suggestions) <= 25
    assert suggestions[0].entry_id == "risk-side-effects"
    assert len(responder.suggest("")) == 25


def test_every_reply_kind_carries_the_disclaimer(responder: Responder, knowledge: KnowledgeBase):
    messages = [
        "",
        "sources",
        "kms",
        "how much should i take",
        "can i mix ketamine with my zoloft",
        "ketamine",
        "banana bread recipe",
        "does insurance cover ketamine",
        "what is ptsd",
    ]
    replies = [responder.respond(message) for message in messages]
    # A check-in comes from the crisis detector's uncertain band, which moves with each
    # retraining; the core builds it this way for any message in that band.
    ordinary = responder.respond("what is ptsd")
    replies.append(responder.check_in("is it normal to feel numb", ordinary))
    for reply in replies:
        assert reply.disclaimer == knowledge.replies.disclaimer
        assert reply.text.endswith(knowledge.replies.disclaimer)
    assert {reply.kind for reply in replies} == set(ReplyKind)


def test_json_contract(responder: Responder):
    data = responder.respond("what was the pcl5 score before treatment").to_json()
    assert list(data) == [
        "question",
        "kind",
        "entry_id",
        "score",
        "text",
        "citations",
        "disclaimer",
        "suggestions",
        "choices",
    ]
    assert data["kind"] == "answer" and data["entry_id"] == "study-score-before"
    assert "52.54" in data["text"]
    assert {
        "id": "macconnel-2024",
        "text": data["citations"][1]["text"],
        "url": "https://doi.org/10.1177/02698811241286726",
    } in data["citations"]
