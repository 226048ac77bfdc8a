"""How training chooses the check-in band (no torch needed: scores are given)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from bot.core.encoder import SentenceEncoder
from bot.evaluation import load_cases
from bot.knowledge.models import ENCODER_FILE, TOKENIZER_FILE
from bot.training.__main__ import add
from bot.training.corpus import (
    Labelled,
    knowledge_wordings,
    read_messages,
    read_split,
    write_messages,
)
from bot.training.finetune import Recipe
from bot.training.train import (
    KNOWLEDGE,
    QUESTIONS,
    TASKS,
    _detector,
    geometry_anchors,
    task_messages,
)

REPOSITORY = Path(__file__).resolve().parent.parent
CRISIS = next(task for task in TASKS if task.name == "crisis")
ADVICE = next(task for task in TASKS if task.name == "advice")


def test_knowledge_wordings_are_every_question_and_phrasing_including_not_covered():
    wordings = knowledge_wordings(REPOSITORY / "knowledge")
    not_covered = yaml.safe_load((REPOSITORY / "knowledge/not-covered.yaml").read_text())
    first_topic = not_covered["topics"][0]
    assert set(first_topic["phrasings"]) <= set(wordings)
    entries = yaml.safe_load((REPOSITORY / "knowledge/entries/future.yaml").read_text())
    entry = entries["entries"][0]
    assert {entry["question"], *entry["phrasings"]} <= set(wordings)


def _scores() -> tuple[np.ndarray, np.ndarray]:
    crisis = np.linspace(0.3, 1.0, 100)
    calm = np.linspace(0.0, 0.5, 100)
    return np.concatenate([crisis, calm]), np.array([1] * 100 + [0] * 100)


def test_check_in_band_is_raised_until_one_percent_of_ordinary_wordings_reach_it():
    scores, labels = _scores()
    ordinary = np.linspace(0.0, 0.8, 200)  # the top 1% of these sit above 0.792
    content = _detector(CRISIS, REPOSITORY, scores, labels, Recipe(), 3, ordinary)
    band = content["thresholds"]["check_in"]
    assert (ordinary >= band).mean() <= 0.01
    assert band > 0.78
    development = content["development"]
    assert development["check_in_recall_first"] < band
    assert development["ordinary_wordings_at_check_in"] <= 0.01


def test_recall_first_band_stays_when_ordinary_wordings_score_low():
    scores, labels = _scores()
    ordinary = np.full(50, 0.01)
    content = _detector(CRISIS, REPOSITORY, scores, labels, Recipe(), 3, ordinary)
    assert content["thresholds"]["check_in"] == np.floor(np.sort(scores[:100])[1] * 1e6) / 1e6
    assert "check_in_recall_first" not in content["development"]


def _corpus(path: Path, *texts: str, label: str = "not_crisis") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_messages(path, "a corpus file", [Labelled(text, label, "general") for text in texts])


def test_add_skips_repeats_and_near_repeats_of_any_frozen_or_retired_set(tmp_path: Path, capsys):
    data = tmp_path / "data"
    _corpus(data / "advice/train.yaml", "is ketamine approved for ptsd")
    _corpus(data / "advice/dev.yaml", "what did the study measure")
    _corpus(data / "advice/test.yaml", "should my wife stop her sertraline before ketamine")
    _corpus(data / "safety/everyday-test.yaml", "can i drive home after my infusion session")
    _corpus(data / "safety/retired-everyday.yaml", "is it normal to feel floaty the day after")
    (data / "questions").mkdir()
    (data / "questions/test.yaml").write_text(
        "questions:\n  future-rcts-needed:\n    - what trials are still needed on ketamine\n"
    )
    _corpus(
        tmp_path / "incoming/new.yaml",
        "what did the study measure",  # already in dev
        "can i drive home after my infusion session?",  # the everyday test set, folded
        "what trials are still needed on ketamine!!",  # the questions' test set
        "is it normal to feel floaty the day after?",  # a retired set the bands come from
        "does the nasal spray taper off over weeks",  # new
    )
    assert add(tmp_path / "incoming", data / "advice") == 0
    kept = [message.text for message in read_messages(data / "advice/train.yaml")]
    assert kept == ["is ketamine approved for ptsd", "does the nasal spray taper off over weeks"]
    assert "added 1 messages" in capsys.readouterr().out


def test_add_works_between_rounds_when_no_test_split_is_frozen(tmp_path: Path, capsys):
    data = tmp_path / "data"
    _corpus(data / "advice/train.yaml", "is ketamine approved for ptsd")
    _corpus(data / "advice/dev.yaml", "what did the study measure")
    _corpus(data / "advice/retired-test.yaml", "should my wife stop her sertraline first")
    _corpus(
        tmp_path / "incoming/new.yaml",
        "should my wife stop her sertraline first?",  # retired: the bands come from it
        "is the spray given at a pharmacy or a clinic",  # new
    )
    assert add(tmp_path / "incoming", data / "advice") == 0
    kept = [message.text for message in read_messages(data / "advice/train.yaml")]
    assert kept == ["is ketamine approved for ptsd", "is the spray given at a pharmacy or a clinic"]
    assert "added 1 messages" in capsys.readouterr().out


def test_crisis_band_comes_from_the_held_out_sets_when_there_are_any():
    scores, labels = _scores()
    held_scores = np.concatenate([np.linspace(0.5, 1.0, 50), np.linspace(0.0, 0.9, 200)])
    held_labels = np.array([1] * 50 + [0] * 200)
    content = _detector(
        CRISIS, REPOSITORY, scores, labels, None, 3, None, (held_scores, held_labels)
    )
    crisis = content["thresholds"]["crisis"]
    # at most 1% of the held-out negatives (2 of 200) reach the full crisis reply
    assert (held_scores[held_labels == 0] >= crisis).sum() == 2
    assert content["thresholds"]["check_in"] < crisis
    development = content["development"]
    assert development["held_out_false_at_crisis"] == 0.01
    assert development["epochs"] == 0.0  # refit: the encoder was not fine-tuned


def test_the_heads_learn_no_from_knowledge_wordings_and_crisis_from_every_advice_message():
    crisis = task_messages(CRISIS, REPOSITORY)
    wordings = knowledge_wordings(REPOSITORY / "knowledge")
    assert [m.text for m in crisis if m.label == KNOWLEDGE] == wordings
    advice_corpus = [
        m.text for split in ("train", "dev") for m in read_split(REPOSITORY / ADVICE.folder, split)
    ]
    questions = [case.text for case in load_cases(REPOSITORY / QUESTIONS)]
    borrowed = [m.text for m in crisis if m.label == "borrowed"]
    # a dose question is never a crisis, nor is a member's question about the article
    assert borrowed == advice_corpus + questions
    advice = task_messages(ADVICE, REPOSITORY)
    borrowed_by_advice = {m.category for m in advice if m.label == "borrowed"}
    assert borrowed_by_advice <= {*ADVICE.borrowed_negatives, "question"}
    assert [m.text for m in advice if m.category == "question"] == questions
    assert not any(m.label == "crisis" for m in advice)


def test_check_in_band_keeps_recall_on_the_held_out_sets_when_out_of_fold_scores_are_too_sure():
    """An encoder fine-tuned on the corpus scores it too surely; the retired sets do not lie."""
    scores, labels = _scores()  # out of fold: crisis 0.3-1.0, the band would be about 0.31
    held_scores = np.concatenate([np.linspace(0.1, 1.0, 200), np.linspace(0.0, 0.2, 200)])
    held_labels = np.array([1] * 200 + [0] * 200)
    content = _detector(
        CRISIS, REPOSITORY, scores, labels, None, 3, None, (held_scores, held_labels)
    )
    band = content["thresholds"]["check_in"]
    # CRISIS.held_out_recall of the 200 held-out crisis messages (99%): 2 may fall below,
    # the 3rd lowest is the band
    misses = int(np.floor((1 - CRISIS.held_out_recall) * 200))
    assert misses == 2
    assert band == np.floor(np.sort(held_scores[:200])[misses] * 1e6) / 1e6
    assert content["development"]["held_out_recall_at_check_in"] == 0.99
    assert content["development"]["recall_at_check_in"] == 1.0


def test_check_in_band_is_not_pulled_below_the_held_out_one_by_out_of_fold_scores():
    """Training messages written from the hardest misses score low out of fold; the band
    follows the retired rounds, which fresh rounds resemble, not them."""
    scores, labels = _scores()
    hard = scores.copy()
    hard[labels == 1] = np.linspace(0.05, 1.0, int(labels.sum()))  # some crisis ones score low
    held_scores = np.concatenate([np.linspace(0.4, 1.0, 200), np.linspace(0.0, 0.3, 200)])
    held_labels = np.array([1] * 200 + [0] * 200)
    content = _detector(CRISIS, REPOSITORY, hard, labels, None, 3, None, (held_scores, held_labels))
    band = content["thresholds"]["check_in"]
    assert band == np.floor(np.sort(held_scores[:200])[2] * 1e6) / 1e6  # the held-out rule
    assert content["development"]["recall_at_check_in"] < CRISIS.recall
    # the advice detector keeps its out-of-fold floor: the lower of the two
    floored = _detector(ADVICE, REPOSITORY, hard, labels, None, 3, None, (held_scores, held_labels))
    assert floored["thresholds"]["advice"] < band


def test_geometry_anchors_are_matchings_wordings_with_the_shipped_encoders_vectors(tmp_path):
    models = REPOSITORY / "knowledge" / "models"
    anchors, vectors = geometry_anchors(REPOSITORY, models)
    questions = {case.text for case in load_cases(REPOSITORY / QUESTIONS)}
    assert set(anchors) == set(knowledge_wordings(REPOSITORY / "knowledge")) | questions
    assert vectors is not None and vectors.shape == (len(anchors), 384)
    encoder = SentenceEncoder(models / ENCODER_FILE, models / TOKENIZER_FILE)
    np.testing.assert_allclose(vectors[:3], encoder.encode(anchors[:3]), atol=1e-5)
    assert geometry_anchors(REPOSITORY, tmp_path) == ([], None)  # before a first training
