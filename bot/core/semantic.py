"""Meaning-level likeness between a question and every wording of every entry.

Members ask "does it stop the nightmares" where the entry says "intrusive symptoms";
rapidfuzz sees no shared words, the sentence encoder sees the same subject. Each
wording's vector is computed once and kept in a small cache file per encoder (keyed by
the wording's own text), so start-up encodes only what a moderator added since. The
file's name carries the cache's format version (``CACHE_FORMAT``): code that writes a
different layout writes a different file, and never reads an older one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

CACHE_VARIABLE = "KETAMINE_BOT_CACHE_DIR"
CACHE_FORMAT = 1  # keys: sha256 of the text (32 hex); vectors: float16 rows. Bump on change


class Encoder(Protocol):
    """What the vector cache needs from ``SentenceEncoder``."""

    def encode_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length vectors, one row per text."""


def cache_dir() -> Path:
    """``$KETAMINE_BOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/ketamine-bot``, else ``~/.cache``."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ketamine-bot"


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def versioned(path: Path) -> Path:
    """``path`` with the cache format in its name: ``wordings-x.npz`` -> ``wordings-x.v1.npz``."""
    return path.with_name(f"{path.stem}.v{CACHE_FORMAT}{path.suffix}")


class VectorCache:
    """Wording vectors for one encoder, read from and written back to one ``.npz`` file.

    The file is ``path`` with the format version in its name (``versioned``), so a cache
    left by code with another layout, or by code from before the version was named, is
    never read: its wordings are encoded again, once.
    """

    def __init__(self, path: Path | None) -> None:
        path = versioned(path) if path is not None else None
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            try:
                with np.load(path) as stored:
                    keys, matrix = stored["keys"], stored["vectors"]
                self._vectors = {str(key): matrix[row] for row, key in enumerate(keys)}
            except (OSError, ValueError, KeyError):
                log.warning("ignoring an unreadable vector cache at %s", path)

    def vectors(self, texts: Sequence[str], encoder: Encoder) -> np.ndarray:
        """Every text's vector, encoding (and caching) only the ones not seen before."""
        keys = [_key(text) for text in texts]
        missing = sorted(
            {
                key: text for key, text in zip(keys, texts, strict=True) if key not in self._vectors
            }.items()
        )
        if missing:
            encoded = encoder.encode_many([text for _, text in missing])
            for (key, _), vector in zip(missing, encoded, strict=True):
                self._vectors[key] = vector.astype(np.float16)
            self._save()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[key] for key in keys]).astype(np.float32)

    def _save(self) -> None:
        """Write atomically; a read-only or missing cache folder only costs start-up time."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = np.array(list(self._vectors))
            matrix = np.stack(list(self._vectors.values()))
            with tempfile.NamedTemporaryFile(
                dir=self.path.parent, suffix=".npz", delete=False
            ) as handle:
                np.savez(handle, keys=keys, vectors=matrix)
            os.replace(handle.name, self.path)
        except OSError as error:
            log.info("vector cache not written (%s); wordings will be encoded at each start", error)


EXACT_ROWS = 20_000  # up to this many wordings, every question is compared with all of them
SHORTLIST = 200  # above it, the owners whose mean vector is closest are compared exactly


def _times(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` on the calling thread.

    Matching already runs in the service's worker pool; BLAS threads started for every
    product compete with it for the same cores and cost far more than they save (a
    10,000-entry base: about 8 ms a question with them under load, under 1 ms without).
    """
    return np.einsum("ij,j->i", matrix, vector)


class SemanticIndex:
    """Cosine likeness (0-100) of a question vector to each owner's closest wording.

    A base of up to ``EXACT_ROWS`` wordings (the shipped one has about a thousand) is
    compared in full. A much larger one (a 10,000-entry base has some 70,000 wordings,
    100 MB of vectors to read per question) is searched in two steps: each owner's mean
    vector picks a ``SHORTLIST`` of owners, and only their wordings are compared exactly.
    """

    def __init__(self, owners: Sequence[str], vectors: np.ndarray) -> None:
        """``owners[i]`` owns row ``i``; each owner's rows must be next to each other."""
        self._vectors = vectors
        self._names: list[str] = []
        starts: list[int] = []
        seen: set[str] = set()
        for row, owner in enumerate(owners):
            if not self._names or self._names[-1] != owner:
                if owner in seen:
                    raise ValueError(f"the wordings of {owner!r} are not next to each other")
                seen.add(owner)
                self._names.append(owner)
                starts.append(row)
        self._starts = np.array(starts, dtype=np.intp)
        self._ends = np.append(self._starts[1:], len(vectors)).astype(np.intp)
        self._rows = {name: row for row, name in enumerate(self._names)}
        # Each owner's mean direction: what a large base shortlists by, and what the answer
        # check compares a question with (all of an entry's wordings, not its nearest one).
        self._centroids = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
        if self._names:
            sums = np.add.reduceat(vectors.astype(np.float32), self._starts, axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self._centroids = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
        self._shortlist = len(vectors) > EXACT_ROWS

    def to_means(self, query: np.ndarray, owners: Iterable[str]) -> dict[str, float]:
        """Cosine (times 100) of the question to each owner's mean wording direction."""
        rows = [self._rows[owner] for owner in owners if owner in self._rows]
        if not rows:
            return {}
        cosines = _times(self._centroids[rows], query.astype(np.float32))
        pairs = zip(rows, cosines, strict=True)
        return {self._names[row]: float(cosine) * 100 for row, cosine in pairs}

    def scores(self, query: np.ndarray, candidates: Iterable[str], top: int) -> dict[str, float]:
        """Best cosine (times 100, never below 0) for ``candidates`` and the ``top`` closest.

        The whole base is compared in one matrix product; only the owners worth ranking
        come back, so a 10,000-entry base costs no Python loop over every entry.
        """
        if not self._names:
            return {}
        query = query.astype(np.float32)
        wanted = {self._rows[name] for name in candidates if name in self._rows}
        if not self._shortlist:
            cosines = _times(self._vectors, query)
            best = np.maximum.reduceat(cosines, self._starts)
            rows = set(np.argpartition(-best, min(top, len(best) - 1))[:top].tolist())
            rows |= wanted
            return {self._names[row]: max(0.0, float(best[row]) * 100) for row in rows}
        coarse = _times(self._centroids, query)
        keep = min(max(SHORTLIST, top), len(coarse) - 1)
        owners = np.union1d(np.argpartition(-coarse, keep)[:keep], np.fromiter(wanted, np.intp))
        lengths = self._ends[owners] - self._starts[owners]
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        picked = np.repeat(self._starts[owners] - offsets, lengths) + np.arange(lengths.sum())
        best = np.maximum.reduceat(_times(self._vectors[picked], query), offsets)
        order = np.argsort(-best)
        chosen = set(order[:top].tolist()) | {
            index for index, owner in enumerate(owners.tolist()) if owner in wanted
        }
        return {
            self._names[int(owners[index])]: max(0.0, float(best[index]) * 100) for index in chosen
        }
