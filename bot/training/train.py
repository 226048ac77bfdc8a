"""Train a detector head on sentence vectors and choose its thresholds on held-back folds.

The encoder stays frozen; a small head (logistic regression, or a one-hidden-layer
network where cross-validation shows it helps) learns from train + dev. Thresholds come
from out-of-fold probabilities on those same splits, recall first: a missed crisis is
the worst failure, so the lower threshold keeps recall at its target, and the higher one
spends the false-alarm budget. The test split is never read here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.encoder import MODEL_ID, SentenceEncoder
from bot.knowledge.models import corpus_digest
from bot.training.corpus import Labelled, read_split

FOLDS = 5
SEED = 20261130


@dataclass(frozen=True)
class Task:
    """What one detector learns: its corpus, positive label, and threshold targets."""

    name: str
    folder: str
    positive: str
    # The lowest band: the highest score that still keeps this share of positives at or
    # above it, out of fold.
    lowest: str
    recall: float
    # An optional surer band above it: the lowest score at which at most this share of
    # negatives would be flagged (never below the lowest band).
    surer: str | None = None
    false_alarms: float = 0.0


TASKS = {
    "crisis": Task("crisis", "tests/data/safety", "crisis", "check_in", 0.995, "crisis", 0.004),
    "advice": Task("advice", "tests/data/advice", "advice", "advice", 0.985),
}
TRAINING_FILES = ("train.yaml", "dev.yaml")


def _heads() -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    return {
        "logistic": LogisticRegression(C=4.0, class_weight="balanced", max_iter=5000),
        "mlp": MLPClassifier(
            hidden_layer_sizes=(64,),
            alpha=1e-3,
            max_iter=600,
            early_stopping=False,
            random_state=SEED,
        ),
    }


def _layers(head: object) -> list[dict[str, object]]:
    """The fitted head as the dense layers ``bot.core.detector`` runs."""
    from sklearn.linear_model import LogisticRegression

    if isinstance(head, LogisticRegression):
        return [
            {
                "weights": head.coef_.T.round(6).tolist(),
                "bias": head.intercept_.round(6).tolist(),
                "activation": "sigmoid",
            }
        ]
    coefs, intercepts = head.coefs_, head.intercepts_  # type: ignore[attr-defined]
    return [
        {
            "weights": weights.round(6).tolist(),
            "bias": bias.round(6).tolist(),
            "activation": "relu" if index < len(coefs) - 1 else "sigmoid",
        }
        for index, (weights, bias) in enumerate(zip(coefs, intercepts))
    ]


def out_of_fold(make: object, vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each message's probability from a head that never saw it."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(labels))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for fit_rows, score_rows in folds.split(vectors, labels):
        head = clone(make).fit(vectors[fit_rows], labels[fit_rows])
        scores[score_rows] = head.predict_proba(vectors[score_rows])[:, 1]
    return scores


def threshold_for_recall(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """The highest threshold that keeps ``recall`` of the positives at or above it."""
    positives = np.sort(scores[labels == 1])
    allowed_misses = int(np.floor((1.0 - recall) * len(positives)))
    return float(positives[allowed_misses])


def threshold_for_false_alarms(scores: np.ndarray, labels: np.ndarray, share: float) -> float:
    """The lowest threshold at which at most ``share`` of the negatives score at or above it."""
    negatives = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(share * len(negatives)))
    return float(np.nextafter(negatives[allowed], 1.0)) if allowed < len(negatives) else 0.0


def flagged_share(scores: np.ndarray, labels: np.ndarray, threshold: float, label: int) -> float:
    """The share of messages with ``label`` scoring at or above ``threshold``."""
    chosen = scores[labels == label]
    return float((chosen >= threshold).mean()) if len(chosen) else 0.0


def train_task(
    task: Task, repository: Path, encoder: SentenceEncoder, log: bool = True
) -> dict[str, object]:
    """Fit the head, choose thresholds, and return the detector file's content."""
    folder = repository / task.folder
    messages: list[Labelled] = [m for split in ("train", "dev") for m in read_split(folder, split)]
    texts: Sequence[str] = [message.text for message in messages]
    labels = np.array([int(message.label == task.positive) for message in messages])
    vectors = encoder.encode_many(texts)

    best_name, best_scores, best_loss = "", np.zeros(0), np.inf
    for name, head in _heads().items():
        scores = out_of_fold(head, vectors, labels)
        clipped = np.clip(scores, 1e-6, 1 - 1e-6)
        loss = float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
        if log:
            print(f"{task.name}: {name} out-of-fold log loss {loss:.4f}")
        if loss < best_loss:
            best_name, best_scores, best_loss = name, scores, loss
    lowest = threshold_for_recall(best_scores, labels, task.recall)
    thresholds = {task.lowest: round(lowest, 6)}
    if task.surer is not None:
        surer = threshold_for_false_alarms(best_scores, labels, task.false_alarms)
        thresholds[task.surer] = round(max(lowest, surer), 6)
    development = {
        "messages": float(len(labels)),
        "positives": float(labels.sum()),
        "log_loss": round(best_loss, 4),
    }
    for name, value in thresholds.items():
        development[f"recall_at_{name}"] = round(flagged_share(best_scores, labels, value, 1), 4)
        development[f"false_at_{name}"] = round(flagged_share(best_scores, labels, value, 0), 4)
    if log:
        print(f"{task.name}: chose {best_name}; thresholds {thresholds}; {development}")
    head = _heads()[best_name]
    head.fit(vectors, labels)  # type: ignore[attr-defined]
    return {
        "name": task.name,
        "encoder": MODEL_ID,
        "positive": task.positive,
        "layers": _layers(head),
        "thresholds": thresholds,
        "training": {
            "folder": task.folder,
            "files": list(TRAINING_FILES),
            "sha256": corpus_digest(folder, TRAINING_FILES),
            "messages": len(messages),
        },
        "trained": dt.date.today().isoformat(),
        "development": development,
    }


def write_detector(content: dict[str, object], path: Path) -> None:
    """Write the detector file (compact JSON: it is data for the bot, not for editing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, separators=(",", ":")) + "\n", encoding="utf-8")
