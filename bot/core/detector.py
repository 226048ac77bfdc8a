"""A trained head over sentence vectors: crisis or advice, as a probability.

The head is data (``knowledge/models/*.json``, written by ``python -m bot.training``):
dense layers with their activation, a sigmoid on the last, and the thresholds chosen
on the development split beside the weights, so inference is two small matrix products
and nothing here is tuned by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.schema import DetectorFile


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``activation(x @ weights + bias)``."""

    weights: np.ndarray
    bias: np.ndarray
    activation: str


def _activate(values: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(values, 0.0)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-np.clip(values, -40.0, 40.0)))
    return values


class Detector:
    """Probability that a message belongs to the detector's positive label."""

    def __init__(self, spec: DetectorFile) -> None:
        self.spec = spec
        self.thresholds = dict(spec.thresholds)
        self._layers: Sequence[Layer] = [
            Layer(
                np.asarray(layer.weights, dtype=np.float32),
                np.asarray(layer.bias, dtype=np.float32),
                layer.activation,
            )
            for layer in spec.layers
        ]

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """One probability per row of ``vectors``."""
        values = np.atleast_2d(vectors).astype(np.float32)
        for layer in self._layers:
            values = _activate(values @ layer.weights + layer.bias, layer.activation)
        return values[:, 0]

    def probability(self, vector: np.ndarray) -> float:
        """The probability for one message's vector."""
        return float(self.probabilities(vector)[0])
