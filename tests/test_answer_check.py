"""The answer check: which ranked entry, if any, the bot answers with."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from bot.core.answer_check import (
    FEATURES,
    UNANSWERED,
    AnswerCheck,
    PastQuestions,
    candidate_features,
)
from bot.core.matcher import Match
from bot.core.normalize import normalize
from bot.core.ranking import Ranking
from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.evaluation import load_cases
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.knowledge.problems import KnowledgeError
from bot.knowledge.schema import AnswerCheckFile
from bot.training.answers import (
    QUESTION_FILES,
    Item,
    _fit,
    _layers,
    choose_threshold,
    held_out_items,
    rates,
)
from tests.validate_run import validate

REPOSITORY = Path(__file__).resolve().parent.parent

RANK = FEATURES.index("rank")
LEAD = FEATURES.index("lead")


def _check(weights_on: int, weight: float, bias: float, threshold: float = 0.5) -> AnswerCheckFile:
    """A one-layer check whose probability reads one feature: easy to reason about."""
    weights = [[weight if index == weights_on else 0.0] for index in range(len(FEATURES))]
    return AnswerCheckFile.model_validate(
        {
            "features": list(FEATURES),
            "layers": [{"weights": weights, "bias": [bias], "activation": "sigmoid"}],
            "threshold": threshold,
            "training": {"files": list(QUESTION_FILES), "sha256": "0" * 64, "messages": 1},
            "trained": "2026-12-01",
        }
    )


def _responder(knowledge: KnowledgeBase, check: AnswerCheckFile | None) -> Responder:
    return Responder(dataclasses.replace(knowledge, answer_check=check))


QUESTION = "how long does a ketamine session last"


def test_the_check_answers_with_the_likeliest_entry_even_when_it_ranked_second(
    knowledge: KnowledgeBase,
):
    banded = _responder(knowledge, None).respond(QUESTION)
    assert banded.kind is ReplyKind.ANSWER
    entries, _, _, _ = _responder(knowledge, None).answer_features(QUESTION)
    # probability rises with rank: the lowest-ranked candidate is the likeliest
    second = _responder(knowledge, _check(RANK, 0.5, -2.0)).respond(QUESTION)
    assert second.kind is ReplyKind.ANSWER
    assert len(entries) >= 2
    assert second.entry_id == entries[-1] != banded.entry_id


def test_below_the_threshold_the_bot_offers_choices_or_says_it_is_not_covered_never_answers(
    knowledge: KnowledgeBase,
):
    doubtful = _responder(knowledge, _check(RANK, 0.0, -5.0))  # every probability ~0.007
    wordings = {
        normalize(text)
        for item in (*knowledge.entries.values(), *knowledge.not_covered.values())
        for text in (item.question, *item.phrasings)
    }
    questions = (QUESTION, "so does ketamine actually work for ptsd then", "esketamine how?")
    for question in questions:
        assert normalize(question) not in wordings  # a filed wording gets its own reply
        reply = doubtful.respond(question)
        assert reply.kind in (ReplyKind.CLARIFY, ReplyKind.NOT_COVERED, ReplyKind.FALLBACK)
        assert reply.entry_id is None


def test_features_follow_the_ranking_in_the_files_order(knowledge: KnowledgeBase):
    ranking = Ranking(
        [Match("a", 70.0), Match("topic", 65.0), Match("b", 50.0)],
        {"a": 60.0, "b": 40.0, "topic": 20.0},
        {"a": 80.0, "b": 55.0, "topic": 90.0},
        0.75,
    )
    covered = {"a": (0.5, 2.0, 1.0), "b": (0.25, 3.0, 1.0)}
    entries, rows = candidate_features(
        ranking, None, None, {"topic"}, 6, lambda ids: [covered[i] for i in ids]
    )
    assert entries == ["a", "b"]
    row = dict(zip(FEATURES, rows[0], strict=True))
    assert row == {
        "blended": 70.0, "words": 60.0, "meaning": 80.0, "rank": 0.0, "behind-best": 0.0,
        "lead": 20.0, "best-not-covered": 65.0, "over-not-covered": 5.0,
        "information": 0.75, "to-mean": 0.0, "length": 6.0,
        "entry-covers": 0.5, "rarest-left-out": 2.0, "unknown-words": 1.0,
        "past-share": 0.0, "past-unanswered": 0.0, "past-closest": 0.0,
        "past-closest-unanswered": 0.0,
    }  # fmt: skip
    second = dict(zip(FEATURES, rows[1], strict=True))
    assert (second["rank"], second["behind-best"], second["lead"]) == (1.0, 20.0, -20.0)
    assert (second["entry-covers"], second["rarest-left-out"]) == (0.25, 3.0)


def test_a_model_file_that_reads_other_features_is_refused_by_validate(folder: Path):
    path = folder / "models" / "answers.json"
    content = json.loads(path.read_text())
    content["features"] = [*content["features"][:-1], "letters"]
    path.write_text(json.dumps(content))
    result = validate(folder)
    assert result.returncode == 1
    assert "models/answers.json:1" in result.stdout
    assert "refit with: python -m bot.training refit" in result.stdout


def test_without_a_model_file_the_score_bands_decide(folder: Path):
    (folder / "models" / "answers.json").unlink()
    knowledge = load_knowledge(folder)
    assert knowledge.answer_check is None
    assert Responder(knowledge).respond(QUESTION).kind is ReplyKind.ANSWER


def test_the_exported_layers_give_the_fitted_pipelines_probabilities():
    """The scaler folded into the first layer must change nothing the bot computes."""
    generator = np.random.default_rng(7)
    items = []
    for number in range(120):
        features = generator.normal(50, 20, size=(3, len(FEATURES))).astype(np.float32)
        right = int(np.argmax(features[:, 0]))
        expect = f"e{right}" if number % 3 else "not_covered"
        items.append(Item(expect, ["e0", "e1", "e2"], features, number % 5, False, None, None))
    model = _fit(items)
    spec = AnswerCheckFile.model_validate(
        {
            "features": list(FEATURES),
            "layers": _layers(model),
            "threshold": 0.5,
            "training": {"files": ["x.yaml"], "sha256": "0" * 64, "messages": 1},
            "trained": "2026-12-01",
        }
    )
    probe = generator.normal(50, 20, size=(40, len(FEATURES))).astype(np.float32)
    expected = model.predict_proba(probe)[:, 1]  # type: ignore[attr-defined]
    assert np.allclose(AnswerCheck(spec).probabilities(probe), expected, atol=1e-5)


def test_the_threshold_weighs_a_wrong_answer_and_an_unwanted_one_alike():
    items = [Item("a", ["a"], np.zeros((1, 1)), 0, False, None, None)] * 2 + [
        Item("not_covered", ["a"], np.zeros((1, 1)), 0, False, None, None)
    ] * 2
    # in scope at 0.9 and 0.8; not covered at 0.6 and 0.2
    picks = [("a", 0.9), ("a", 0.8), ("a", 0.6), ("a", 0.2)]
    assert rates(items, picks, 0.5) == (1.0, 0.5)
    assert rates(items, picks, 0.85) == (0.5, 1.0)
    # the first threshold that answers both in-scope questions and neither of the others
    assert choose_threshold(items, picks) == pytest.approx(0.61)


def test_the_shipped_check_was_fitted_on_the_question_sets_and_says_its_figures(
    knowledge: KnowledgeBase,
):
    check = knowledge.answer_check
    assert check is not None
    assert check.training.files == list(QUESTION_FILES)
    for name in ("held_out_wordings", "questions"):
        assert 0.5 <= check.development[f"{name}_right_entry"] <= 1.0
        assert 0.5 <= check.development[f"{name}_unanswered"] <= 1.0


def test_a_wording_a_moderator_filed_gets_its_own_reply_whatever_the_check_says(
    knowledge: KnowledgeBase,
):
    doubtful = _responder(knowledge, _check(RANK, 0.0, -5.0))  # the check would answer nothing
    entry = knowledge.entries["article-about"]
    topic = next(iter(knowledge.not_covered.values()))
    assert doubtful.respond(entry.phrasings[0]).entry_id == "article-about"
    reply = doubtful.respond(topic.phrasings[0])
    assert (reply.kind, reply.topic) == (ReplyKind.NOT_COVERED, topic.id)


@pytest.mark.parametrize("word", ["ketamine", "PTSD?", "ket"])
def test_a_bare_word_most_entries_use_gets_a_choice_even_from_a_sure_check(
    knowledge: KnowledgeBase, word: str
):
    sure = _responder(knowledge, _check(RANK, 0.0, 5.0))  # the check would answer anything
    assert sure.respond(word).kind is ReplyKind.CLARIFY
    assert sure.respond("nmda").kind is ReplyKind.ANSWER  # a rare bare word names its entry


def test_training_holds_each_wording_out_of_the_index_it_is_ranked_against(
    knowledge: KnowledgeBase, responder: Responder
):
    items = [item for item in held_out_items(knowledge, responder, 5)]
    phrasings = [(p, e.id) for e in knowledge.entries.values() for p in e.phrasings]
    topic_wordings = sum(1 + len(t.phrasings) for t in knowledge.not_covered.values())
    assert len(items) == len(phrasings) + topic_wordings
    assert sorted(i.expect for i in items if i.expect != "not_covered") == sorted(
        entry for _, entry in phrasings
    )
    # were a wording still in its own index, it would be settled as its own entry's
    assert not [i for i in items if i.settled is not None and i.settled == i.expect]
    assert {i.fold for i in items} == set(range(5))


def test_a_stale_or_broken_answer_check_does_not_stop_its_own_refit(folder: Path):
    """refit reads the knowledge without the file it is about to replace."""
    (folder / "models" / "answers.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        load_knowledge(folder)
    assert load_knowledge(folder, answer_check=False).answer_check is None


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_past_questions_say_how_the_nearest_ones_were_answered():
    past = PastQuestions(
        np.stack([_unit(1, 0, 0), _unit(1, 0.1, 0), _unit(0.9, 0.4, 0), _unit(0, 0, 1)]),
        np.array(["a", UNANSWERED, "b", "a"]),
        k=3,
        folds=np.array([0, 1, 1, 0]),
    )
    rows = past.rows(_unit(1, 0, 0), ["a", "b", "c"])
    share_a, unanswered, closest_a, closest_unanswered = rows[0]
    # the three nearest: an exact "a" (it outweighs the rest), then the unanswered, then "b"
    assert share_a > 0.99 and 0 < unanswered < 0.01
    assert closest_a == pytest.approx(1.0) and closest_unanswered == pytest.approx(0.995, abs=1e-3)
    assert rows[2].tolist()[0] == rows[2].tolist()[2] == 0.0  # "c" was never asked
    assert rows[:, 1].tolist() == [unanswered] * 3  # the same for every entry
    # hiding fold 0 (training hides a question's own fold): the exact "a" cannot vote
    hidden = past.rows(_unit(1, 0, 0), ["a", "b"], hide_fold=1 - 1)
    assert hidden[0][0] == 0.0 and hidden[0][1] > 0.5 and hidden[1][0] > 0.0


def test_the_shipped_check_reads_the_labelled_questions_it_was_fitted_on(
    knowledge: KnowledgeBase,
):
    check = knowledge.answer_check
    assert check is not None and check.questions is not None and check.questions.k == 10
    stored = PastQuestions.load(knowledge.directory / "models", check.questions)
    cases = [case for name in QUESTION_FILES for case in load_cases(REPOSITORY / name)]
    assert len(stored.owners) == len(cases)
    expected = [
        UNANSWERED if c.expect in ("not_covered", "out_of_scope") else c.expect for c in cases
    ]
    assert stored.owners.tolist() == expected


def test_a_past_questions_file_that_changed_is_refused_by_validate(folder: Path):
    path = folder / "models" / "answers-questions.npz"
    path.write_bytes(path.read_bytes() + b"\0")
    result = validate(folder)
    assert result.returncode == 1
    assert (
        "models/answers.json:1: answers-questions.npz is not the file this model was trained with"
        in result.stdout
    )
