"""The meaning index: exact on a small base, a two-step search on a very large one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bot.core import semantic
from bot.core.encoder import SentenceEncoder
from bot.core.reply import ReplyKind
from bot.core.responder import Responder
from bot.core.semantic import SemanticIndex
from bot.knowledge.base import KnowledgeBase


def _base(owners: int, seed: int = 3) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    names = [f"entry-{i}" for i in range(owners) for _ in range(int(rng.integers(1, 8)))]
    vectors = rng.normal(size=(len(names), 24)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return names, vectors


def test_each_owner_scores_its_closest_wording():
    index = SemanticIndex(["a", "a", "b"], np.eye(3, dtype=np.float32))
    assert index.scores(np.array([0, 1, 0], dtype=np.float32), [], 2) == {"a": 100.0, "b": 0.0}


def test_the_wordings_of_one_owner_must_be_together():
    with pytest.raises(ValueError, match="not next to each other"):
        SemanticIndex(["a", "b", "a"], np.eye(3, dtype=np.float32))


def test_the_two_step_search_finds_what_the_full_one_does(monkeypatch: pytest.MonkeyPatch):
    names, vectors = _base(300)
    query = vectors[40] + 0.05 * np.ones(24, dtype=np.float32)
    exact = SemanticIndex(names, vectors).scores(query, ["entry-7", "entry-250"], 10)
    monkeypatch.setattr(semantic, "EXACT_ROWS", 10)
    monkeypatch.setattr(semantic, "SHORTLIST", 300)  # every owner: the same answer
    two_step = SemanticIndex(names, vectors).scores(query, ["entry-7", "entry-250"], 10)
    assert two_step.keys() == exact.keys()
    assert all(two_step[name] == pytest.approx(exact[name], abs=1e-3) for name in exact)


def test_a_short_shortlist_still_scores_the_candidates_and_the_closest(
    monkeypatch: pytest.MonkeyPatch,
):
    names, vectors = _base(300)
    monkeypatch.setattr(semantic, "EXACT_ROWS", 10)
    monkeypatch.setattr(semantic, "SHORTLIST", 20)
    scores = SemanticIndex(names, vectors).scores(vectors[0], ["entry-7", "entry-250"], 5)
    assert {"entry-7", "entry-250"} <= scores.keys()
    assert max(scores, key=scores.__getitem__) == names[0]
    assert scores[names[0]] == pytest.approx(100.0, abs=1e-3)


class _CountingEncoder:
    """Encodes every text as the same unit vector, counting what it was asked."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode_many(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.encoded += list(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2


def test_the_vector_cache_names_its_format_and_never_reads_an_older_file(tmp_path):
    asked = tmp_path / "wordings-abc.npz"
    old = {"keys": np.array([semantic._key("what is ketamine")]), "vectors": np.zeros((1, 4))}
    np.savez(asked, **old)  # what code from before the format was named left behind

    encoder = _CountingEncoder()
    cache = semantic.VectorCache(asked)
    vectors = cache.vectors(["what is ketamine"], encoder)

    assert cache.path == tmp_path / f"wordings-abc.v{semantic.CACHE_FORMAT}.npz"
    assert encoder.encoded == ["what is ketamine"]  # the old zero vector was not read
    assert np.allclose(vectors, 0.5)
    assert cache.path.is_file()
    again = _CountingEncoder()
    semantic.VectorCache(asked).vectors(["what is ketamine"], again)
    assert again.encoded == []  # its own file is read back


class _CountingShipped:
    """The shipped encoder, counting the texts it is asked to encode one by one."""

    def __init__(self, inner: SentenceEncoder) -> None:
        self.inner = inner
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += texts
        return self.inner.encode(texts)

    def encode_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.inner.encode_many(texts, batch_size)


def test_a_knowledge_wording_is_not_encoded_twice_and_gets_the_same_reply(
    knowledge: KnowledgeBase, responder: Responder
):
    counting = _CountingShipped(responder.encoder)
    reused = Responder(knowledge, encoder=counting)  # type: ignore[arg-type]
    entry = knowledge.entries["study-dose"]
    wording = entry.phrasings[0]
    reply = reused.respond(wording)
    assert counting.encoded == []  # its vector came from the index
    assert (reply.kind, reply.entry_id) == (ReplyKind.ANSWER, "study-dose")
    fresh = Responder(knowledge, encoder=counting)  # type: ignore[arg-type]
    fresh._known_vectors = {}
    again = fresh.respond(wording)  # a fresh pass through the model: the same reply
    assert (again.kind, again.entry_id, again.body) == (reply.kind, reply.entry_id, reply.body)
    assert counting.encoded == [wording]
    reused.respond("what dose of ketamine did the clinic give, roughly")
    assert counting.encoded[-1] == "what dose of ketamine did the clinic give, roughly"
