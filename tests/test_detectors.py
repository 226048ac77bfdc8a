"""Detectors: the exported encoder, the n-gram arithmetic, thresholds, and staleness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.core.detector import blend
from bot.core.encoder import encoder_for
from bot.core.ngrams import NgramModel
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.knowledge.models import REFIT, RETRAIN
from bot.knowledge.schema import NgramHead
from bot.training.__main__ import main as training_main
from bot.training.answers import QUESTION_FILES
from bot.training.corpus import read_messages, write_messages
from bot.training.train import (
    TASKS,
    _ngram_pipeline,
    ngram_head,
    task_files,
    threshold_for_false_alarms,
    threshold_for_recall,
)
from tests.validate_run import validate

ROOT = Path(__file__).resolve().parents[1]


def _cosines(vectors: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return (vectors * expected).sum(axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(expected, axis=1)
    )


def test_the_exported_int8_encoder_matches_the_float_model_it_came_from(knowledge: KnowledgeBase):
    detector = knowledge.detectors["crisis"]
    assert len(detector.references) >= 3
    texts = [reference.text for reference in detector.references]
    expected = np.array([reference.vector for reference in detector.references], dtype=np.float32)
    vectors = encoder_for(knowledge.directory, detector).encode(texts)
    # int8 rounding keeps the float model's direction: 0.986 and up for the base MiniLM
    # exported as training now does (0.89 for the 2026-11-30 model, whose float vectors were
    # taken with dropout on). Read through a wrong layer (0.58 at most), CLS or max pooling
    # (0.54 at most), that model landed far below.
    assert _cosines(vectors, expected).min() > 0.85, _cosines(vectors, expected)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def _assert_pinned(knowledge: KnowledgeBase) -> None:
    for name in ("crisis", "advice"):
        detector = knowledge.detectors[name]
        missing = [reference.text for reference in detector.references if not reference.exported]
        assert not missing, f"{name}: record them with: python -m bot.training references"
        texts = [reference.text for reference in detector.references]
        pinned = np.array([reference.exported for reference in detector.references])
        vectors = encoder_for(knowledge.directory, detector).encode(texts)
        assert _cosines(vectors, pinned).min() > 0.999, _cosines(vectors, pinned)


def test_the_encoder_gives_the_vectors_it_gave_when_it_was_exported(knowledge: KnowledgeBase):
    """The tight pin: any change in how the bot reads the model (output, pooling, tokenizer
    settings, truncation) moves these. A cosine rather than equality, because another CPU's
    int8 kernels may round a little differently."""
    _assert_pinned(knowledge)


def test_the_float_floor_tells_a_wrong_pooling_from_the_right_one(knowledge: KnowledgeBase):
    detector = knowledge.detectors["crisis"]
    encoder = encoder_for(knowledge.directory, detector)
    expected = np.array([reference.vector for reference in detector.references])
    wrong = []
    for reference in detector.references:
        ids = np.array([encoder._tokenizer.encode(reference.text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        hidden = encoder._session.run(None, {**feeds, "token_type_ids": np.zeros_like(ids)})[0]
        wrong.append([hidden[0, 0], hidden[0].max(axis=0)])  # CLS, max pooling
    for variant in range(2):
        vectors = np.array([row[variant] for row in wrong])
        assert _cosines(vectors, expected).max() < 0.85


def test_references_records_the_exported_vectors_and_refuses_a_mismatch(tmp_path: Path):
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    for name in ("crisis", "advice"):
        path = folder / "models" / f"{name}.json"
        content = json.loads(path.read_text())
        for reference in content["references"]:
            reference.pop("exported", None)
        path.write_text(json.dumps(content))
    assert training_main(["references", "--knowledge", str(folder)]) == 0
    reloaded = load_knowledge(folder)
    _assert_pinned(reloaded)
    assert reloaded.detectors["advice"].development["int8_cosine_min"] > 0.85

    path = folder / "models" / "crisis.json"
    content = json.loads(path.read_text())
    vectors = [reference["vector"] for reference in content["references"]]
    for reference, vector in zip(content["references"], vectors[1:] + vectors[:1], strict=True):
        reference["vector"] = vector  # each text now carries another text's float vector
    path.write_text(json.dumps(content))
    before = path.read_bytes()
    assert training_main(["references", "--knowledge", str(folder)]) == 1
    assert path.read_bytes() == before


def test_both_detectors_share_one_encoder(knowledge: KnowledgeBase):
    crisis, advice = knowledge.detectors["crisis"], knowledge.detectors["advice"]
    assert crisis.encoder == advice.encoder and crisis.tokenizer == advice.tokenizer


def test_the_heads_combine_by_their_log_odds_and_older_files_by_their_mean():
    sure, unsure = np.array([0.99, 0.2]), np.array([0.5, 0.2])
    # log-odds of 0.99 are 4.595; half of that is 2.298, a probability of 0.9087
    assert blend(sure, unsure) == pytest.approx([0.9087, 0.2], abs=1e-4)
    assert blend(sure, unsure, "mean") == pytest.approx([0.745, 0.2])


def test_the_shipped_detectors_say_how_their_heads_combine(knowledge: KnowledgeBase):
    assert {detector.blend for detector in knowledge.detectors.values()} == {"logit_mean"}


def test_the_ngram_model_gives_scikit_learns_probabilities_exactly():
    texts = [
        "i cant do this anymore",
        "kms fr",
        "this wait is killing me",
        "dying to know lol",
        "can i drive home after",
        "gonna ctb tonight",
        "Ich will sterben",
        "  spaced   out  a",
        "x",
        "i'd kill for a nap rn",
        "going to end it",
        "what's the PCL-5?",
    ]
    labels = [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0]
    pipeline = _ngram_pipeline()
    for _, vectorizer in pipeline.steps[0][1].transformer_list:
        vectorizer.set_params(min_df=1)  # the real corpus is large enough for min_df > 1
    pipeline.fit(texts, labels)
    model = NgramModel(NgramHead.model_validate(ngram_head(pipeline)))
    probes = [*texts, "unseen words only", "KILLING me SOFTLY", "a b c d e f g"]
    expected = pipeline.predict_proba(probes)[:, 1]
    ours = [model.probability(text) for text in probes]
    assert np.allclose(ours, expected, atol=1e-5)


def test_thresholds_keep_recall_first_then_spend_the_false_alarm_budget():
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.6, 0.95])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert threshold_for_recall(scores, labels, 1.0) == 0.4
    assert threshold_for_recall(scores, labels, 0.75) == 0.5
    assert threshold_for_false_alarms(scores, labels, 0.0) > 0.9
    assert threshold_for_false_alarms(scores, labels, 0.25) == pytest.approx(0.3, abs=1e-9)


# The folders each detector's training files sit in, as validate names them.
DEPENDS_ON = "tests/data/advice, tests/data/questions, tests/data/safety"


def _checkout(tmp_path: Path) -> Path:
    """The knowledge base and the corpora it was trained on, laid out as in the repository."""
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    for name in {name for task in TASKS for name in task_files(task)} | set(QUESTION_FILES):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, target)
    return tmp_path / "knowledge"


def _append(corpus: Path, text: str, label: str, category: str) -> None:
    added = f'- text: "{text}"\n  label: {label}\n  category: {category}\n'
    corpus.write_text(corpus.read_text(encoding="utf-8") + added, encoding="utf-8")


def test_validate_fails_when_the_corpus_changed_and_the_model_was_not_retrained(tmp_path: Path):
    folder = _checkout(tmp_path)
    assert validate(folder).returncode == 0
    _append(tmp_path / "tests/data/safety/train.yaml", "a new message", "not_crisis", "chitchat")
    result = validate(folder)
    assert result.returncode == 1
    # each detector's heads learn "no" from the other's corpus too, so both are stale
    for name in ("crisis", "advice"):
        assert f"models/{name}.json:1: {DEPENDS_ON} changed since this model" in result.stdout
    assert f"refit with: {REFIT} (or {RETRAIN}" in result.stdout


def test_a_tool_that_reads_only_the_entries_loads_them_while_the_models_are_stale(
    tmp_path: Path, knowledge: KnowledgeBase
):
    """A new round's briefs are written right after retiring, before the refit it calls for."""
    folder = _checkout(tmp_path)
    _append(tmp_path / "tests/data/safety/train.yaml", "a new message", "not_crisis", "chitchat")
    with pytest.raises(KnowledgeError, match="changed since this model was trained"):
        load_knowledge(folder, answer_check=False)
    entries = load_knowledge(folder, answer_check=False, check_training=False).entries
    assert entries.keys() == knowledge.entries.keys()


def test_both_detectors_go_stale_when_the_member_questions_they_learn_from_change(
    tmp_path: Path,
):
    """Both heads learn "no" from the matching's dev questions (ordinary, chatty ones), and
    the answer check learns when to answer from them."""
    folder = _checkout(tmp_path)
    assert validate(folder).returncode == 0
    dev = tmp_path / "tests/data/questions/dev.yaml"
    questions = yaml.safe_load(dev.read_text(encoding="utf-8"))
    questions["questions"]["out_of_scope"].append("whats a good name for a goldfish")
    dev.write_text(yaml.safe_dump(questions, sort_keys=False), encoding="utf-8")
    result = validate(folder)
    assert result.returncode == 1
    for name in ("crisis", "advice"):
        assert f"models/{name}.json:1: {DEPENDS_ON} changed since this model" in result.stdout
    assert "models/answers.json:1: tests/data/questions changed since this model" in result.stdout


# The refit tests run in one worker: the twentieth of each corpus the crisis refit reads is
# inside the quarter the advice refit reads, so the second finds every vector cached.
REFITS = pytest.mark.xdist_group("refits")


@REFITS
def test_refit_brings_a_stale_advice_model_up_to_date_and_leaves_the_rest(tmp_path: Path):
    folder = _checkout(tmp_path)
    models = folder / "models"
    crisis_before = (models / "crisis.json").read_bytes()
    before = json.loads((models / "advice.json").read_text())
    # the advice detector's held-out set: only the advice band's figures depend on it
    held_out = tmp_path / "tests/data/advice/retired-test.yaml"
    _append(held_out, "how much should i take", "advice", "dose")
    stale = validate(folder)
    assert stale.returncode == 1
    assert f"models/advice.json:1: {DEPENDS_ON} changed" in stale.stdout
    assert "models/crisis.json" not in stale.stdout
    # A quarter of every labelled corpus, so the refit takes seconds, not a minute: now the
    # crisis model is stale too, and refitting the advice model alone must leave it so.
    for name in {name for task in TASKS for name in task_files(task)}:
        if "/questions/" not in name:  # member questions keep their own format
            corpus = read_messages(tmp_path / name)
            write_messages(tmp_path / name, "a quarter, for a quick refit", corpus[::4])

    refit = ["refit", "--knowledge", str(folder), "--detector", "advice", "--folds", "2"]
    assert training_main(refit) == 0
    refitted = validate(folder)
    assert refitted.returncode == 1
    assert f"models/crisis.json:1: {DEPENDS_ON} changed" in refitted.stdout
    assert "models/advice.json" not in refitted.stdout
    after = json.loads((models / "advice.json").read_text())
    assert (models / "crisis.json").read_bytes() == crisis_before
    for kept in ("encoder", "tokenizer", "references"):
        assert after[kept] == before[kept]
    encoder_corpus = before["training"].get("encoder_sha256", before["training"]["sha256"])
    assert after["training"]["encoder_sha256"] == encoder_corpus
    assert after["trained"] >= before["trained"]
    assert 0.0 <= after["development"]["held_out_recall_at_advice"] <= 1.0
    # the band comes from out-of-fold scores: at most 1% of knowledge wordings reach it
    assert after["development"]["ordinary_wordings_at_advice"] <= 0.01
    assert after["development"]["recall_at_advice"] >= 0.9  # out of fold (2), train and dev


@REFITS
def test_refit_writes_the_crisis_vote_beside_its_detector_and_validate_accepts_it(
    tmp_path: Path,
):
    folder = _checkout(tmp_path)
    models = folder / "models"
    for name in {name for task in TASKS for name in task_files(task)}:
        if "/questions/" not in name:
            corpus = read_messages(tmp_path / name)
            write_messages(tmp_path / name, "a twentieth, for a quick refit", corpus[::20])
    refit = ["refit", "--knowledge", str(folder), "--detector", "crisis", "--folds", "2"]
    assert training_main(refit) == 0
    after = json.loads((models / "crisis.json").read_text())
    vectors = np.load(models / after["neighbours"]["file"])
    messages = int(after["development"]["messages"])
    # every message it learned from, and the knowledge wordings (ordinary questions) too
    assert vectors["codes"].shape[1] == 384 and vectors["codes"].shape[0] > messages
    assert vectors["labels"].sum() == after["development"]["positives"]
    assert after["neighbours"]["k"] == 10
    result = validate(folder)
    assert "models/crisis.json" not in result.stdout


def test_validate_refuses_an_encoder_file_that_is_not_the_trained_one(tmp_path: Path):
    folder = _checkout(tmp_path)
    encoder = folder / "models" / "safety-encoder.onnx"
    encoder.write_bytes(encoder.read_bytes()[:-1] + b"\0")
    result = validate(folder)
    assert result.returncode == 1
    assert "safety-encoder.onnx is not the file this model was trained with" in result.stdout


class _CountingEncoder:
    """Stands in for the sentence encoder: a fixed vector per text, and a count of texts."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode_many(self, texts, batch_size: int = 32) -> np.ndarray:
        self.encoded += texts
        rows = [np.random.default_rng(len(text)).normal(size=384) for text in texts]
        return np.asarray(rows, dtype=np.float32)


def test_a_second_refit_encodes_only_the_messages_added_since(
    knowledge: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from bot.training import refit as refit_module

    monkeypatch.setenv("KETAMINE_BOT_CACHE_DIR", str(tmp_path))
    encoder = _CountingEncoder()
    monkeypatch.setattr(refit_module, "encoder_for", lambda knowledge, detector: encoder)
    detector = knowledge.detectors["crisis"]
    first = refit_module._Vectors(knowledge.directory)(detector, ["one", "two", "one"])
    assert sorted(encoder.encoded) == ["one", "two"]  # a repeat is encoded once
    again = refit_module._Vectors(knowledge.directory)(detector, ["two", "three", "one"])
    assert sorted(encoder.encoded) == ["one", "three", "two"]  # the next refit: the new one
    # the same vectors either way, as kept on disk (float16)
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    assert np.array_equal(first[1], first[1].astype(np.float16).astype(np.float32))
