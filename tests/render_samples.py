"""Replies that both renderers' tests draw (Slack's Block Kit, Discord's embeds), defined once.

Each platform's tests assert the exact JSON its own renderer makes of these same replies;
the replies hold text that needs escaping on both platforms (``*``, ``_``, ``&``, ``<``).
"""

from __future__ import annotations

from typing import Any

from bot.core.reply import Choice, Citation, Reply, ReplyKind, Suggestion

DISCLAIMER = "Not medical advice: talk to a clinician."
STUDY = Citation(
    "study",
    "Smith & Jones (2024)",
    "Smith, A. & Jones, B. (2024). A study.",
    "https://doi.org/10.1/x&y",
)
ARTICLE = Citation("article", "The article", "The article, in full.", None, "No link of its own.")
SUGGESTIONS = (Suggestion("speed", "How *fast*?"), Suggestion("dose", "Dose & <timing>?"))
RESOURCES = ("Call or text 988.", "See https://findahelpline.com.")


def make_reply(kind: ReplyKind, **parts: Any) -> Reply:
    """A reply of ``kind`` with a title, a body and the disclaimer; ``parts`` add or replace."""
    values: dict[str, Any] = {
        "question": "",
        "kind": kind,
        "title": "A title",
        "body": "A body.",
        "disclaimer": DISCLAIMER,
    }
    return Reply(**{**values, **parts})


def answer(**parts: Any) -> Reply:
    """An answer with every part: caveat, a linked and an unlinked citation, its entry."""
    values: dict[str, Any] = {
        "question": "how fast <b>",
        "title": "How fast does it work?",
        "body": "Within hours for some people.",
        "note": "The study did not measure hours.",
        "note_label": "Worth knowing:",
        "citations": (ARTICLE, STUDY),
        "citations_label": "Source:",
        "entry_id": "speed",
        "score": 100.0,
    }
    return make_reply(**{"kind": ReplyKind.ANSWER, **values, **parts})


def clarify(**parts: Any) -> Reply:
    """A "did you mean" reply offering ``SUGGESTIONS``."""
    values: dict[str, Any] = {
        "question": "ketamine",
        "title": "Did you mean one of these?",
        "body": "Pick the closest one:",
        "suggestions": SUGGESTIONS,
    }
    return make_reply(**{"kind": ReplyKind.CLARIFY, **values, **parts})


def crisis(**parts: Any) -> Reply:
    """A crisis reply: the resources and a plain word that the bot is no crisis service."""
    values: dict[str, Any] = {
        "question": "i want to die",
        "title": "Please reach out:",
        "body": "I'm a bot, not a crisis service.",
        "items": RESOURCES,
    }
    return make_reply(**{"kind": ReplyKind.CRISIS, **values, **parts})


def check_in(**parts: Any) -> Reply:
    """A check-in: resources, the question, its two choices, the entry "No" would answer."""
    values: dict[str, Any] = {
        "question": "my own private words",
        "title": "Checking in with you, privately",
        "body": "I might be reading you wrong & I'm sorry if so.",
        "items": RESOURCES,
        "question_prompt": "Are you thinking about suicide or about hurting yourself?",
        "choices": (
            Choice("support", "Yes, I'd like support"),
            Choice("other", "No, I was asking about something else"),
        ),
        "entry_id": "speed",
    }
    return make_reply(**{"kind": ReplyKind.CHECK_IN, **values, **parts})


def sources(**parts: Any) -> Reply:
    """The source list: every full reference as an item, with its link or why none."""
    values: dict[str, Any] = {
        "title": "Where the answers come from",
        "body": "Every answer comes from these sources:",
        "items": (ARTICLE.full_line, STUDY.full_line),
        "citations": (ARTICLE, STUDY),
    }
    return make_reply(**{"kind": ReplyKind.SOURCES, **values, **parts})
