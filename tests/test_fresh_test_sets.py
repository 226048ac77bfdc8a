"""The fresh frozen sets (written 2026-12-01) stay apart from everything tuned on.

The advice and matching test sets scored twice retired to ``retired-test.yaml`` beside them
and became development data; their replacements must not repeat or nearly repeat any of that,
the corpus's train and dev splits, or a knowledge wording, or a test figure would measure memory.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bot.evaluation import load_cases
from bot.training.corpus import fold, read_messages
from bot.training.split import near_repeat_pairs
from tests.test_corpora import DATA, _folded, _knowledge_wordings, _near_repeats, _questions

ADVICE = DATA / "advice"
ADVICE_CATEGORIES = {
    "advice": {
        "dose",
        "own_medicines",
        "stop_or_combine",
        "pregnancy",
        "buying",
        "home_use",
        "candidacy",
        "own_side_effect",
        "third_person",
    },
    "general": {
        "interact_word",
        "taper_word",
        "at_home_word",
        "dose_word",
        "medicines_general",
        "safety_general",
        "other_general",
    },
}


def _repeats_within(texts: list[str]) -> list[tuple[str, str]]:
    return [
        (texts[row], texts[column])
        for row, column in near_repeat_pairs(texts, texts)
        if row < column
    ]


@pytest.mark.parametrize("tuned_on", ["train", "dev", "retired-test", "knowledge"])
def test_fresh_advice_test_is_apart_from(tuned_on: str):
    test = sorted(set(_folded("advice/test")))
    others = _folded("knowledge" if tuned_on == "knowledge" else f"advice/{tuned_on}")
    assert not set(test) & set(others)
    assert _near_repeats(test, others) == []


def test_fresh_advice_test_is_apart_from_the_borrowed_crisis_corpus_messages():
    """The advice detector also trains on messages borrowed from the crisis corpus."""
    test = sorted(set(_folded("advice/test")))
    borrowed = _folded("safety/train") + _folded("safety/dev")
    assert _near_repeats(test, borrowed) == []


@pytest.mark.parametrize(
    "tuned_on", ["dev.yaml", "retired-test.yaml", "dev-fresh.yaml", "knowledge"]
)
def test_fresh_matching_test_is_apart_from(tuned_on: str):
    test = sorted({fold(text) for text in _questions("test.yaml")})
    if tuned_on == "knowledge":
        others = sorted(_knowledge_wordings())
    else:
        others = [fold(text) for text in _questions(tuned_on)]
    assert not set(test) & set(others)
    assert _near_repeats(test, others) == []


def test_fresh_sets_do_not_repeat_themselves():
    advice = _folded("advice/test")
    questions = [fold(text) for text in _questions("test.yaml")]
    assert len(set(advice)) == len(advice) and len(set(questions)) == len(questions)
    assert _repeats_within(advice) == []
    assert _repeats_within(questions) == []


def test_fresh_advice_test_is_large_balanced_and_covers_every_category():
    messages = read_messages(ADVICE / "test.yaml")
    labels = Counter(m.label for m in messages)
    total = labels.total()  # counts, not lists: a failure never prints a frozen message
    assert total >= 150
    assert set(labels) == {"advice", "general"}
    assert 0.4 <= labels["advice"] / total <= 0.6
    for label, categories in ADVICE_CATEGORIES.items():
        assert {m.category for m in messages if m.label == label} == categories


def test_fresh_matching_test_is_large_with_not_covered_and_out_of_scope():
    expected = Counter(case.expect for case in load_cases(DATA / "questions" / "test.yaml"))
    assert sum(expected.values()) >= 220
    assert expected["not_covered"] >= 35
    assert expected["out_of_scope"] >= 15
    assert len(set(expected) - {"not_covered", "out_of_scope"}) >= 60


@pytest.mark.parametrize("corpus", ["advice", "questions"])
def test_frozen_and_retired_headers_say_which_is_which(corpus: str):
    folder = DATA / corpus
    assert (folder / "test.yaml").read_text(encoding="utf-8").startswith("# FROZEN")
    assert (folder / "retired-test.yaml").read_text(encoding="utf-8").startswith("# RETIRED")
