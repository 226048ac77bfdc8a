"""The labelled sets stay honest: frozen test splits never leak into what is tuned on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.evaluation import load_cases
from bot.knowledge.yamlfile import load_data
from bot.training.corpus import fold, read_messages
from bot.training.rounds import text_values
from bot.training.split import near_repeat_pairs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
KNOWLEDGE = ROOT / "knowledge"


def _wordings(*paths: Path) -> set[str]:
    texts: list[str] = []
    for path in paths:
        texts += text_values(load_data(path))
    return {fold(text) for text in texts if fold(text)}


def _knowledge_wordings() -> set[str]:
    return _wordings(*KNOWLEDGE.glob("*.yaml"), *(KNOWLEDGE / "entries").glob("*.yaml"))


def _safety_wordings() -> set[str]:
    return _wordings(KNOWLEDGE / "safety.yaml")


def _near_repeats(held_out: list[str], tuned_on: list[str]) -> list[tuple[str, str]]:
    return [
        (held_out[row], tuned_on[column]) for row, column in near_repeat_pairs(held_out, tuned_on)
    ]


@pytest.mark.parametrize("corpus", ["safety", "advice"])
def test_no_test_message_appears_in_train_dev_or_the_knowledge_base(corpus: str):
    folder = DATA / corpus
    test = {fold(m.text) for m in read_messages(folder / "test.yaml")}
    tuned = [
        fold(m.text) for split in ("train", "dev") for m in read_messages(folder / f"{split}.yaml")
    ]
    assert not test & set(tuned)
    assert not test & _safety_wordings()
    assert _near_repeats(sorted(test), tuned) == []


def test_the_everyday_set_is_apart_from_everything_tuned_on():
    everyday = [fold(m.text) for m in read_messages(DATA / "safety" / "everyday-test.yaml")]
    tuned = [
        fold(m.text)
        for corpus in ("safety", "advice")
        for split in ("train", "dev")
        for m in read_messages(DATA / corpus / f"{split}.yaml")
    ]
    count = len(everyday)  # a number, not the list: a failure never prints a frozen message
    assert count >= 300
    assert not set(everyday) & (set(tuned) | _safety_wordings())
    assert _near_repeats(everyday, tuned) == []


SAFETY = DATA / "safety"
# Retired on 2026-12-01 after their scorings (two rounds of test sets): development data now
# (may be tuned on, never trained on). The frozen sets must not repeat them either.
RETIRED = ("retired-test", "retired-everyday")
FRESH = ("test", "everyday-test")
SEEN_BEFORE = (
    *(f"{corpus}/{split}" for corpus in ("safety", "advice") for split in ("train", "dev")),
    *(f"safety/{name}" for name in RETIRED),
    "knowledge",
)
CRISIS_CATEGORIES = {
    "direct",
    "passive",
    "plan",
    "lethality",
    "multilingual",
    "goodbye",
    "self_harm",
    "slang",
    "messy",
    "long_mixed",
    "third_person_risk",
}
NOT_CRISIS_CATEGORIES = {
    "logistics",
    "idiom",
    "effect_duration",
    "distress",
    "grief",
    "research_suicidality",
    "third_person",
    "past",
    "general",
    "chitchat",
    "gibberish",
}


EVERYDAY_ONLY = {"effects", "side_effects", "scheduling_cost"}


def _folded(name: str) -> list[str]:
    """The folded messages of ``tests/data/<name>.yaml`` (``knowledge``: every wording)."""
    if name == "knowledge":
        return sorted(_knowledge_wordings())
    return [fold(m.text) for m in read_messages(DATA / f"{name}.yaml")]


@pytest.mark.parametrize("seen", SEEN_BEFORE)
@pytest.mark.parametrize("fresh", FRESH)
def test_the_fresh_frozen_sets_repeat_nothing_seen_before(fresh: str, seen: str):
    test = sorted(set(_folded(f"safety/{fresh}")))
    others = _folded(seen)
    assert not set(test) & set(others)
    assert _near_repeats(test, others) == []


def test_the_fresh_frozen_sets_are_large_and_cover_every_category():
    test = read_messages(SAFETY / "test.yaml")
    labels = Counter(m.label for m in test)
    total = labels.total()  # counts, not lists: a failure never prints a frozen message
    assert total >= 420
    assert min(labels["crisis"], labels["not_crisis"]) >= 0.4 * total
    assert {m.category for m in test if m.label == "crisis"} == CRISIS_CATEGORIES
    assert {m.category for m in test if m.label == "not_crisis"} == NOT_CRISIS_CATEGORIES
    everyday = read_messages(SAFETY / "everyday-test.yaml")
    everyday_count = len(everyday)  # as above: never the list
    assert everyday_count >= 320
    assert {m.label for m in everyday} == {"not_crisis"}
    # Everyday writers also name side-effect ("effects", "side_effects") and scheduling or
    # cost questions, kinds the crisis corpus files under ``general``.
    assert {m.category for m in everyday} <= NOT_CRISIS_CATEGORIES | EVERYDAY_ONLY


@pytest.mark.parametrize("retired", RETIRED)
def test_the_retired_sets_are_never_trained_on(retired: str):
    """Tuning on a retired set is allowed; training on it (or a near copy) is not."""
    messages = sorted(set(_folded(f"safety/{retired}")))
    trained = _folded("safety/train")
    assert not set(messages) & set(trained)
    assert _near_repeats(messages, trained) == []


def test_the_crisis_corpus_is_large_and_mostly_hard_negatives():
    messages = [
        m
        for split in ("train", "dev", "test")
        for m in read_messages(DATA / "safety" / f"{split}.yaml")
    ]
    labels = Counter(m.label for m in messages)
    assert set(labels) == {"crisis", "not_crisis"}
    assert len(messages) >= 1500
    assert labels["not_crisis"] >= len(messages) / 2


def _questions(name: str) -> list[str]:
    return [case.text for case in load_cases(DATA / "questions" / name)]


def test_matching_test_questions_are_not_knowledge_base_wordings():
    test = [fold(text) for text in _questions("test.yaml")]
    dev = [fold(text) for text in _questions("dev.yaml")]
    wordings = sorted(_knowledge_wordings())
    test_count = len(test)  # a number, not the list: a failure never prints a frozen message
    assert test_count >= 200 and len(dev) >= 400
    assert not set(test) & (set(dev) | set(wordings))
    assert _near_repeats(test, wordings) == []
    assert _near_repeats(test, dev) == []


@pytest.mark.parametrize("name", ["dev.yaml", "dev-fresh.yaml", "test.yaml"])
def test_question_labels_are_keys_naming_an_entry_or_a_reply_kind(name: str):
    """Labels are mapping keys (never string values a leak checker reads), each one real."""
    data = yaml.safe_load((DATA / "questions" / name).read_text(encoding="utf-8"))
    assert isinstance(data["questions"], dict)
    entries = {
        entry["id"]
        for path in (KNOWLEDGE / "entries").glob("*.yaml")
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]
    }
    labels = {case.expect for case in load_cases(DATA / "questions" / name)}
    assert labels - entries - {"not_covered", "out_of_scope"} == set()
