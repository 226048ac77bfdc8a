"""Refit the detectors' heads on the shipped encoder: minutes, where ``train`` takes hours.

New labelled messages mostly need new heads, not a new encoder. ``refit`` encodes every
message with the shipped int8 encoder, exactly as the bot will read it, and fits each head
(a logistic regression on the sentence vector, beside the n-gram model) out of fold, so
the thresholds follow the same rules as ``train`` on scores the model has not seen; then it
fits once on everything. The encoder, tokenizer and reference vectors stay as they were.
The out-of-fold figures are kinder than a fresh test: the encoder was fine-tuned on the
older corpus, so only messages added since then are truly new to it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.detector import BLEND, blend
from bot.core.encoder import SentenceEncoder, encoder_for
from bot.core.neighbours import pack, unpack, vote
from bot.core.semantic import VectorCache, cache_dir
from bot.knowledge.models import file_sha256
from bot.knowledge.schema import DetectorFile
from bot.training.finetune import sigmoid_layer
from bot.training.train import (
    KNOWLEDGE,
    TASKS,
    _detector,
    _folds,
    _ngram_pipeline,
    held_out_scores,
    ngram_head,
    task_messages,
    write_detector,
)

# The encoder head's regularisation: the n-gram model's, and the best of 1, 4 and 16 out of
# fold on the advice corpus (train and dev) on 2026-12-01.
HEAD_C = 16.0


# Detectors whose nearest labelled messages vote too (``bot.core.neighbours``), and how
# many. On the held-out retired sets, crisis with k = 10 flagged 1.76% of ordinary messages
# at 98.5% recall against 2.13% without (k = 30: 2.00%); advice was not measured, so it
# keeps its two heads.
NEIGHBOURS = {"crisis": 10}


@dataclass(frozen=True)
class _Fitted:
    head: object
    ngrams: object
    vectors: np.ndarray | None  # the neighbour vote's labelled messages, when it has one
    labels: np.ndarray
    k: int


def _fit(vectors: np.ndarray, texts: Sequence[str], labels: np.ndarray, k: int | None) -> _Fitted:
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression(C=HEAD_C, class_weight="balanced", max_iter=5000)
    head.fit(vectors, labels)
    ngrams = _ngram_pipeline()
    ngrams.fit(list(texts), labels)  # type: ignore[attr-defined]
    stored = unpack(pack(vectors)) if k else None
    return _Fitted(head, ngrams, stored, labels.astype(np.int8), k or 0)


def _blend(fitted: _Fitted, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """The detector's probability, as ``bot.core.detector`` computes it."""
    encoder = fitted.head.predict_proba(vectors)[:, 1]  # type: ignore[attr-defined]
    ngrams = fitted.ngrams.predict_proba(list(texts))[:, 1]  # type: ignore[attr-defined]
    neighbours = None
    if fitted.vectors is not None:
        neighbours = vote(fitted.vectors, fitted.labels.astype(np.float32), vectors, fitted.k)
    return blend(encoder, ngrams, BLEND, neighbours)


def _write_neighbours(fitted: _Fitted, models: Path, name: str) -> dict[str, object] | None:
    """Store the vote's labelled vectors beside the detector; the reference to them."""
    if fitted.vectors is None:
        return None
    path = models / f"{name}-neighbours.npz"
    np.savez_compressed(path, **pack(fitted.vectors), labels=fitted.labels)
    return {"file": path.name, "sha256": file_sha256(path), "k": fitted.k}


class _Vectors:
    """Sentence vectors, each text encoded once per encoder file, and kept on disk.

    The detectors share one encoder and their messages overlap (the knowledge wordings, and
    what each borrows from the other's corpus), so a refit of both encodes those once; the
    next refit with the same encoder encodes only the messages added since (encoding the
    corpora was most of a refit's minutes). The vectors are kept as float16, so a refit
    gives the same heads whether or not the cache was there.
    """

    def __init__(self, knowledge: Path) -> None:
        self._knowledge = knowledge
        self._encoders: dict[str, tuple[SentenceEncoder, VectorCache]] = {}

    def __call__(self, detector: DetectorFile, texts: Sequence[str]) -> np.ndarray:
        sha = detector.encoder.sha256
        if sha not in self._encoders:
            cache = VectorCache(cache_dir() / f"refit-{sha[:16]}.npz")
            self._encoders[sha] = (encoder_for(self._knowledge, detector), cache)
        encoder, cache = self._encoders[sha]
        return cache.vectors(list(texts), encoder)


def refit_heads(
    repository: Path,
    knowledge: Path,
    names: Sequence[str],
    folds: int = 5,
    log: Callable[[str], None] = print,
) -> None:
    """Refit the named detectors' heads and thresholds; writes their files in place."""
    models = knowledge / "models"
    vectors_of = _Vectors(knowledge)
    for task in TASKS:
        if task.name not in names:
            continue
        path = models / f"{task.name}.json"
        content = json.loads(path.read_text(encoding="utf-8"))
        shipped = DetectorFile.model_validate(content)
        messages = task_messages(task, repository)
        texts = np.array([m.text for m in messages], dtype=object)
        labels = np.array([int(m.label == task.positive) for m in messages])
        wordings = np.array([m.label == KNOWLEDGE for m in messages])
        vectors = vectors_of(shipped, list(texts))
        scores = np.zeros(len(texts))
        k = NEIGHBOURS.get(task.name)
        for fit, score in _folds(labels * 2 + wordings, folds):
            fitted = _fit(vectors[fit], list(texts[fit]), labels[fit], k)
            scores[score] = _blend(fitted, vectors[score], list(texts[score]))
        fitted = _fit(vectors, list(texts), labels, k)
        held_out = held_out_scores(
            task,
            repository,
            lambda texts, fitted=fitted, shipped=shipped: _blend(
                fitted, vectors_of(shipped, texts), texts
            ),
        )
        refitted = _detector(
            task,
            repository,
            scores[~wordings],
            labels[~wordings],
            None,
            folds,
            scores[wordings] if wordings.any() else None,
            held_out,
        )
        refitted["training"]["encoder_sha256"] = (  # type: ignore[index]
            shipped.training.encoder_sha256 or shipped.training.sha256
        )
        content.update(
            thresholds=refitted["thresholds"],
            training=refitted["training"],
            development={
                **refitted["development"],  # type: ignore[dict-item]
                "int8_cosine_min": content.get("development", {}).get("int8_cosine_min", 0.0),
            },
            trained=dt.date.today().isoformat(),
            layers=[sigmoid_layer(fitted.head.coef_.T, fitted.head.intercept_)],  # type: ignore[attr-defined]
            ngrams=ngram_head(fitted.ngrams),
            neighbours=_write_neighbours(fitted, models, task.name),
            blend=BLEND,
        )
        DetectorFile.model_validate(content)  # never write a file the bot would refuse
        write_detector(content, path)
        log(f"{task.name}: thresholds {content['thresholds']}; {content['development']}")
