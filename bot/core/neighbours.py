"""A third opinion for a detector: how its nearest labelled messages were labelled.

The encoder head draws one straight boundary through the sentence-vector space and the
n-gram head reads surface words; neither notices that a message sits among a crowd of
ordinary ones ("is it ok to drive home after", asked a hundred ways) or of crisis ones.
The vote looks at the ``k`` training messages closest in meaning, each weighted by how
close it is. On the held-out retired sets (never learned from) the three heads together
flagged 1.76% of ordinary messages at 98.5% crisis recall, against 2.13% for the two
(2026-12-01, ninth session).

Training (out of fold) and the bot call the same ``vote``. Its cost is memory traffic:
each message's product reads all the vectors (49 MB), 1.3-2.3 ms on the 2-core machine.

The vectors are stored as int8 codes with one scale per row (``pack``), half the size of
float16: both vote files grow with every labelled message, and the install has a budget.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from bot.knowledge.models import file_sha256
from bot.knowledge.schema import NeighbourRef

CLIP = 0.02  # a unanimous vote is strong evidence, never certainty (its log-odds stay finite)


def pack(vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Unit vectors as stored: int8 codes, each row scaled so its largest value is 127.

    Training votes with ``unpack(pack(...))`` too, so it learns from what the bot reads.
    """
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scales = np.maximum(np.abs(unit).max(axis=1), 1e-12) / 127
    codes = np.round(unit / scales[:, None]).astype(np.int8)
    return {"codes": codes, "scales": scales.astype(np.float32)}


def unpack(stored: dict[str, np.ndarray]) -> np.ndarray:
    """The unit float32 vectors ``pack`` stored (renormalised after rounding)."""
    # In place, and the norms without a squared copy: the crisis vote's vectors are 40 MB.
    vectors = stored["codes"].astype(np.float32)
    vectors *= stored["scales"][:, None]
    vectors /= np.maximum(np.sqrt(np.einsum("ij,ij->i", vectors, vectors)), 1e-12)[:, None]
    return vectors


def nearest(
    vectors: np.ndarray, queries: np.ndarray, k: int, hidden: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each query's ``k`` nearest stored vectors: their rows, cosines and weights.

    ``vectors`` and ``queries`` are unit length, so cosine is a dot product; a neighbour's
    weight is one over its cosine distance (an exact repeat outweighs the rest). Rows
    marked in ``hidden`` are never chosen (training hides a message's own fold).
    """
    queries = np.atleast_2d(queries).astype(np.float32)
    cosines = queries @ vectors.T
    if hidden is not None:
        cosines[:, hidden] = -np.inf
    k = min(k, vectors.shape[0])
    rows = np.argpartition(-cosines, k - 1, axis=1)[:, :k]
    closeness = np.take_along_axis(cosines, rows, axis=1)
    weights = 1.0 / np.maximum(1.0 - closeness, 1e-6)
    return rows, closeness, weights


def vote(vectors: np.ndarray, labels: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Each query's distance-weighted share of positive labels among its ``k`` nearest."""
    rows, _, weights = nearest(vectors, queries, k)
    positive = (weights * labels[rows]).sum(axis=1) / weights.sum(axis=1)
    return np.clip(positive.astype(np.float64), CLIP, 1.0 - CLIP)


# Loaded arrays by file hash: a knowledge reload that keeps the same file reuses them
# (the crisis vote's 49 MB as float32; reading and unpacking them takes about 0.2 s).
_loaded: dict[str, dict[str, np.ndarray]] = {}
_loading = threading.Lock()


def load_pinned(models: Path, file: str, sha256: str) -> dict[str, np.ndarray]:
    """A model's stored arrays, once the file is the one it was trained with."""
    path = models / file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    if file_sha256(path) != sha256:
        raise ValueError(f"{path} is not the file the model was trained with")
    with _loading:
        if sha256 not in _loaded:
            with np.load(path) as stored:
                arrays = {name: stored[name] for name in stored.files}
            arrays["vectors"] = unpack(arrays)
            del arrays["codes"]  # the float32 vectors are what the vote reads
            _loaded[sha256] = arrays
        return _loaded[sha256]


class NeighbourVote:
    """The labelled messages' vectors, loaded once from ``models/``, and their vote."""

    def __init__(self, models: Path, ref: NeighbourRef) -> None:
        stored = load_pinned(models, ref.file, ref.sha256)
        self._vectors = stored["vectors"]
        self._labels = stored["labels"].astype(np.float32)
        self._k = ref.k

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """One probability per row of ``vectors``."""
        return vote(self._vectors, self._labels, vectors, self._k)
