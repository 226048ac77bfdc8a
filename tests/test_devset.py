"""Accuracy on questions written the way members ask, never copied from the knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.responder import Responder
from bot.core.synonyms import Canonicalizer
from bot.evaluation import evaluate, load_cases
from bot.knowledge import KnowledgeBase

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def devset() -> tuple[list, list]:
    return load_cases(DATA / "devset.yaml")


def test_devset_has_the_agreed_size(devset):
    cases, not_crisis = devset
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.category] = counts.get(case.category, 0) + 1
    assert counts["in_scope"] >= 100
    assert counts["out_of_scope"] >= 20
    assert counts["crisis"] >= 25
    assert counts["advice"] >= 15
    assert len(not_crisis) >= 10


def test_devset_questions_are_not_copied_from_the_knowledge_base(devset, knowledge: KnowledgeBase):
    synonyms = knowledge.synonyms
    key = Canonicalizer(synonyms.synonyms, synonyms.ignore_words).key
    wordings = {
        key(text)
        for entry in knowledge.entries.values()
        for text in (entry.question, *entry.phrasings)
    }
    cases, not_crisis = devset
    copied = [case.question for case in [*cases, *not_crisis] if key(case.question) in wordings]
    assert copied == []


def test_devset_expectations_name_real_entries(devset, knowledge: KnowledgeBase):
    cases, not_crisis = devset
    for case in [*cases, *not_crisis]:
        if case.category == "in_scope" or case in not_crisis:
            assert set(case.expect) <= set(knowledge.entries), case


def test_devset_figures(devset, responder: Responder, capsys):
    cases, not_crisis = devset
    figures = evaluate(responder, cases, not_crisis)
    with capsys.disabled():
        print("\n-- development set --\n" + figures.summary())
    misses = "\n".join(figures.misses)
    assert figures.rate("crisis") == 1.0, misses
    assert figures.rate("in_scope") >= 0.90, misses
    assert figures.rate("out_of_scope") >= 0.90, misses
    assert figures.rate("advice") >= 0.90, misses
    assert figures.false_crisis == []
    assert not any(
        m.startswith("[not_crisis]") and m.endswith("got crisis") for m in figures.misses
    )


def test_second_safety_set_figures(responder: Responder, capsys):
    """A second set, written without seeing the phrase lists (see README for its history)."""
    cases, _ = load_cases(DATA / "holdout.yaml")
    figures = evaluate(responder, cases)
    with capsys.disabled():
        print("\n-- second safety set --\n" + figures.summary())
    misses = "\n".join(figures.misses)
    assert figures.rate("crisis") == 1.0, misses
    assert figures.rate("advice") >= 0.90, misses
    assert figures.rate("out_of_scope") >= 0.90, misses


def test_blind_set_figures(responder: Responder, capsys):
    """Written without seeing the knowledge base or the dev set, and never tuned on.

    Its floors sit just under the first measured figures (83.8% in scope, 80% out of
    scope): the test guards against regressions, the printout reports generalisation.
    """
    cases, _ = load_cases(DATA / "blind.yaml")
    figures = evaluate(responder, cases)
    with capsys.disabled():
        print("\n-- blind set --\n" + figures.summary())
    misses = "\n".join(figures.misses)
    assert figures.rate("in_scope") >= 0.80, misses
    assert figures.rate("out_of_scope") >= 0.75, misses
    assert figures.false_crisis == []
