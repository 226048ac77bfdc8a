"""A trained detector: crisis or advice, as a probability.

The detector is data (``knowledge/models/*.json``, written by ``python -m bot.training``):
dense layers over the fine-tuned encoder's sentence vector, a learned n-gram model beside
them (the two probabilities combined by ``blend``), and the thresholds chosen out of fold on the
development data, so inference is a small matrix product and a dictionary walk, and
nothing here is tuned by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.neighbours import NeighbourVote
from bot.core.ngrams import NgramModel
from bot.knowledge.schema import DetectorFile, DetectorLayer


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``activation(x @ weights + bias)``."""

    weights: np.ndarray
    bias: np.ndarray
    activation: str


def dense_layers(specs: Sequence[DetectorLayer]) -> list[Layer]:
    """A trained head's layers, as arrays."""
    return [
        Layer(
            np.asarray(spec.weights, dtype=np.float32),
            np.asarray(spec.bias, dtype=np.float32),
            spec.activation,
        )
        for spec in specs
    ]


def forward(layers: Sequence[Layer], values: np.ndarray) -> np.ndarray:
    """The last layer's first output for each row of ``values``."""
    values = np.atleast_2d(values).astype(np.float32)
    for layer in layers:
        values = _activate(values @ layer.weights + layer.bias, layer.activation)
    return values[:, 0].astype(np.float64)


def _activate(values: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(values, 0.0)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-np.clip(values, -40.0, 40.0)))
    return values


# How detectors written now combine their heads; older files say "mean" (the default).
BLEND = "logit_mean"


def _log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-7, 1 - 1e-7)
    return np.log(clipped) - np.log1p(-clipped)


def blend(
    encoder: np.ndarray, ngrams: np.ndarray, how: str = BLEND, neighbours: np.ndarray | None = None
) -> np.ndarray:
    """One probability from the heads'.

    ``logit_mean`` averages their log-odds, so a head that is sure a message is ordinary
    weighs as much as one that is sure it is not: on the held-out retired sets it flagged
    fewer ordinary messages than the plain ``mean`` at the same crisis recall (1.6% against
    2.3% at 98.5%, 2026-12-01). ``mean`` reads the detector files written before that, which
    have no neighbour vote.
    """
    if how == "mean":
        return (encoder + ngrams) / 2
    heads = [encoder, ngrams] if neighbours is None else [encoder, ngrams, neighbours]
    return 1.0 / (1.0 + np.exp(-sum(_log_odds(head) for head in heads) / len(heads)))


class Detector:
    """Probability that a message belongs to the detector's positive label."""

    def __init__(self, spec: DetectorFile, models: Path | None = None) -> None:
        """``models`` is the folder the neighbour vote's vectors are in, when it has one."""
        self.spec = spec
        self.thresholds = dict(spec.thresholds)
        self._layers = dense_layers(spec.layers)
        self._ngrams = NgramModel(spec.ngrams) if spec.ngrams is not None else None
        self._neighbours = None
        if spec.neighbours is not None:
            if models is None:
                raise ValueError(f"the {spec.name} detector needs its models folder")
            self._neighbours = NeighbourVote(models, spec.neighbours)

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """One probability per text (its sentence vector is the same row of ``vectors``)."""
        encoder = forward(self._layers, vectors)
        if self._ngrams is None:
            return encoder
        ngrams = np.array([self._ngrams.probability(text) for text in texts])
        neighbours = None
        if self._neighbours is not None:
            neighbours = self._neighbours.probabilities(vectors)
        return blend(encoder, ngrams, self.spec.blend, neighbours)
