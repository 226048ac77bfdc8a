"""The crisis detector's third head: its nearest labelled messages vote."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.core.detector import Detector
from bot.core.neighbours import CLIP, pack, unpack, vote
from bot.knowledge import KnowledgeBase
from bot.knowledge.models import MODELS_FOLDER
from tests.validate_run import validate


def _unit(rows: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_vote_weighs_the_nearest_messages_by_closeness():
    stored = _unit([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    labels = np.array([1, 1, 0, 0], dtype=np.float32)
    near_crisis, near_ordinary, between = _unit([[1, 0.05], [0.05, 1], [1, 1]])
    assert vote(stored, labels, near_crisis, 2)[0] == 1 - CLIP  # both neighbours say yes
    assert vote(stored, labels, near_ordinary, 2)[0] == CLIP
    assert vote(stored, labels, between, 4)[0] == pytest.approx(0.5, abs=1e-6)
    # an exact repeat of a labelled message outweighs the others
    assert vote(stored, labels, stored[2], 4)[0] < 0.01 + CLIP
    # only the k nearest count: the one nearest says yes
    assert vote(stored, labels, near_crisis, 1)[0] == 1 - CLIP


def test_stored_vectors_keep_their_cosines_at_half_the_size_of_float16():
    rows = np.random.default_rng(0).normal(size=(200, 384)).astype(np.float32)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    stored = pack(rows)  # any length in: stored unit length
    assert stored["codes"].dtype == np.int8 and stored["codes"].nbytes == unit.size
    assert np.abs(stored["codes"]).max(axis=1).tolist() == [127] * 200
    back = unpack(stored)
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-6)
    assert np.abs(back @ unit[0] - unit @ unit[0]).max() < 0.01


def test_the_shipped_crisis_detector_blends_three_heads(knowledge: KnowledgeBase, responder):
    spec = knowledge.detectors["crisis"]
    assert spec.neighbours is not None and spec.neighbours.k == 10
    models = knowledge.directory / MODELS_FOLDER
    detector = Detector(spec, models)
    two_heads = Detector(spec.model_copy(update={"neighbours": None}))
    texts = ["is it ok to drive home after an infusion", "i dont want to be here anymore"]
    vectors = responder.encoder.encode(texts)
    with np.load(models / spec.neighbours.file) as stored:
        votes = vote(unpack(stored), stored["labels"], vectors, 10)
    # the two heads' blend is the mean of their log-odds; the vote joins it as a third
    logit = np.log(votes / (1 - votes))
    two = two_heads.probabilities(texts, vectors)
    combined = 1 / (1 + np.exp(-((np.log(two / (1 - two)) * 2 + logit) / 3)))
    assert np.allclose(detector.probabilities(texts, vectors), combined, atol=1e-6)


def test_validate_names_a_missing_or_changed_neighbours_file(folder: Path):
    path = folder / "models" / "crisis-neighbours.npz"
    saved = path.read_bytes()
    path.unlink()
    result = validate(folder)
    assert result.returncode == 1
    assert "models/crisis.json:1: crisis-neighbours.npz is missing" in result.stdout
    path.write_bytes(saved[:-1] + bytes([saved[-1] ^ 1]))
    result = validate(folder)
    assert "crisis-neighbours.npz is not the file this model was trained with" in result.stdout
    shutil.rmtree(folder)
