"""The shipped knowledge base keeps the product's promises."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.core.routes import Misroute, misroutes
from bot.knowledge import KnowledgeBase
from tests.conftest import ROOT

ARTICLE = Path(
    os.environ.get(
        "ARTICLE_PATH", ROOT.parent / "shared" / "source" / "ketamine-for-ptsd-article.txt"
    )
)
COPY_RUN = 8  # this many words in a row, the same as the article, is copied prose


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'", ""))


def runs(text: str, size: int = COPY_RUN) -> set[tuple[str, ...]]:
    sequence = words(text)
    return {tuple(sequence[i : i + size]) for i in range(len(sequence) - size + 1)}


def test_at_least_forty_entries_across_the_article_sections(knowledge: KnowledgeBase):
    assert len(knowledge.entries) >= 40
    assert len(set(knowledge.sections.values())) >= 8


def test_entries_have_enough_phrasings_and_a_review_date(knowledge: KnowledgeBase):
    for entry in knowledge.entries.values():
        assert len(entry.phrasings) >= 5, entry.id
        assert entry.reviewed is not None


@pytest.mark.skipif(not ARTICLE.exists(), reason="the article is read from ../shared/source")
def test_no_prose_is_copied_from_the_article(knowledge: KnowledgeBase):
    article = runs(ARTICLE.read_text(encoding="utf-8"))
    copied = []
    for entry in knowledge.entries.values():
        for field, text in [
            ("question", entry.question),
            ("answer", entry.answer),
            ("caveat", entry.caveat or ""),
        ]:
            copied += [f"{entry.id}.{field}: {' '.join(run)}" for run in runs(text) & article]
        for phrasing in entry.phrasings:
            copied += [f"{entry.id}.phrasing: {' '.join(run)}" for run in runs(phrasing) & article]
    for topic in knowledge.not_covered.values():
        for text in (topic.topic, *topic.phrasings):
            copied += [f"{topic.id}: {' '.join(run)}" for run in runs(text) & article]
    # Entry files are checked field by field above (their `section:` names the article's
    # heading on purpose); sources.yaml holds bibliographic references, which must be exact.
    texts = [ROOT / "knowledge" / name for name in ("replies.yaml", "safety.yaml", "synonyms.yaml")]
    for path in texts + sorted((ROOT / "bot").rglob("*.py")):
        copied += [
            f"{path.name}: {' '.join(run)}"
            for run in runs(path.read_text(encoding="utf-8")) & article
        ]
    assert copied == []


def test_the_article_figures_carry_over_exactly(knowledge: KnowledgeBase):
    answers = {entry.id: entry.answer for entry in knowledge.entries.values()}
    assert "52.54" in answers["study-score-before"]
    assert "28.78" in answers["study-score-after"]
    assert "52.54" in answers["study-score-after"]  # "before and after" is asked as one question
    assert "75%" in answers["study-clinically-significant"]
    assert "62%" in answers["study-remission"]
    assert "117" in answers["study-participants"]


def test_remission_is_not_overstated(knowledge: KnowledgeBase):
    entry = knowledge.entries["study-remission"]
    assert "cutoff" in (entry.answer + (entry.caveat or "")).lower()


# The tests that read ``misrouted`` run in one pytest-xdist worker, so every wording is
# asked once (about 13 s of CPU on the 2-core machine), not once per worker.
ASKS_EVERY_WORDING = pytest.mark.xdist_group("asks-every-wording")


@pytest.fixture(scope="module")
def misrouted(responder: Responder) -> list[Misroute]:
    """Every wording that does not reach its own entry or topic, asked once for all tests."""
    return misroutes(responder)


@ASKS_EVERY_WORDING
def test_every_phrasing_reaches_its_own_entry(knowledge: KnowledgeBase, misrouted: list[Misroute]):
    assert [str(wrong) for wrong in misrouted if wrong.owner in knowledge.entries] == []


@ASKS_EVERY_WORDING
def test_every_phrasing_is_matched_to_its_own_entry(
    knowledge: KnowledgeBase, responder: Responder, misrouted: list[Misroute]
):
    """The matching alone, whatever the safety screen says: no two entries share a wording.

    An answer only ever comes from the matching, so a wording that reached its own entry
    was matched to it; only the ones that went elsewhere are asked again, screen aside.
    """
    wrong = []
    for route in misrouted:
        if route.owner in knowledge.entries:
            reply = responder.ordinary(responder.screen(route.wording))
            went = reply.entry_id or reply.kind.value
            if reply.kind is not ReplyKind.ANSWER or reply.entry_id != route.owner:
                wrong.append(f"{route.owner}: {route.wording!r} -> {went}")
    assert wrong == []


def test_crisis_resources_are_the_exact_published_ones(knowledge: KnowledgeBase):
    resources = knowledge.safety.crisis.resources
    assert resources[0] == (
        "United States: call or text 988 (Suicide & Crisis Lifeline), or chat at 988lifeline.org."
    )
    assert "Veterans (US): dial 988 then press 1, or text 838255." in resources
    assert "Crisis Text Line (US): text HOME to 741741." in resources
    assert "UK and Ireland: Samaritans, call 116 123." in resources
    assert (
        "Anywhere else: findahelpline.com lists free, confidential lines by country." in resources
    )


NOT_COVERED_MUST_INCLUDE = [
    "medicare",
    "addicted",
    "psilocybin",
    "clinic",
    "drug test",
    "system",
    "ocd",
    "legal",
    "ssri",
    "stellate ganglion",
]


def test_not_covered_topics_are_specific_and_point_somewhere(knowledge: KnowledgeBase):
    topics = knowledge.not_covered
    assert len(topics) >= 10
    for topic in topics.values():
        assert topic.id not in knowledge.entries, topic.id
        assert len(topic.phrasings) >= 6, topic.id
        assert 1 <= len(topic.closest) <= 3, topic.id
        assert all(entry_id in knowledge.entries for entry_id in topic.closest), topic.id
        # the topic is read inside "The article doesn't say anything about {topic}"
        assert topic.topic[0].islower() and not topic.topic.endswith((".", "?")), topic.id
    wordings = " | ".join(
        text.lower() for topic in topics.values() for text in (topic.topic, *topic.phrasings)
    )
    assert [word for word in NOT_COVERED_MUST_INCLUDE if word not in wordings] == []


def test_not_covered_phrasings_get_the_not_covered_reply(
    knowledge: KnowledgeBase, misrouted: list[Misroute]
):
    assert [str(wrong) for wrong in misrouted if wrong.owner in knowledge.not_covered] == []


@ASKS_EVERY_WORDING
def test_not_covered_phrasings_are_matched_to_their_topic(
    knowledge: KnowledgeBase, responder: Responder
):
    """The matching alone: no entry swallows a topic the article does not cover."""
    wrong = []
    for topic in knowledge.not_covered.values():
        for phrasing in topic.phrasings:
            reply = responder.ordinary(responder.screen(phrasing))
            if reply.kind is not ReplyKind.NOT_COVERED or reply.topic != topic.id:
                wrong.append(f"{topic.id}: {phrasing!r} -> {reply.entry_id or reply.kind.value}")
    assert wrong == []


@pytest.mark.parametrize(
    "question",
    [
        "dose it work",
        "dose ketamine work for ptsd",
        "how fast dose ketamin work",
        "what dose ketamine do to the brain",
        "dose spravato work for ptsd",
        "dose therapy help",
        "dose ketamine really help ptsd",
        "how long dose ket last",
    ],
)
def test_dose_typed_for_does_never_reaches_the_dose_entry(responder: Responder, question: str):
    assert responder.respond(question).entry_id != "study-dose"


def test_dose_entry_phrasings_are_about_amounts(knowledge: KnowledgeBase):
    amount = re.compile(r"\b(how much|dosage|dose of|mg|milligrams|amount|strong|big a dose|low)\b")
    vague = [p for p in knowledge.entries["study-dose"].phrasings if not amount.search(p)]
    assert vague == []
