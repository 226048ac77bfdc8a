"""The encoder gives all-MiniLM-L6-v2's sentence vectors, offline, from site-packages."""

import json
from pathlib import Path

import numpy as np
import pytest

from bot.core.encoder import DIMENSIONS, SentenceEncoder, shared_encoder
from bot.core.normalize import ENCODER_MAX_WINDOWS, encoder_windows

REFERENCE = Path(__file__).parent / "data" / "encoder" / "reference-vectors.json"


def test_vectors_match_the_float_model_from_sentence_transformers():
    # Reference vectors came from sentence-transformers running the float32 weights; the
    # int8 ONNX export may differ in the third decimal, never in direction. A wrong layer,
    # CLS pooling or a missing normalization gives cosines far below these bounds.
    reference = json.loads(REFERENCE.read_text())["sentences"]
    texts = [item["text"] for item in reference]
    expected = np.array([item["vector"] for item in reference], dtype=np.float32)
    vectors = shared_encoder().encode(texts)
    assert vectors.shape == (len(texts), DIMENSIONS)
    cosines = (vectors * expected).sum(axis=1)
    assert cosines.min() > 0.998, cosines
    assert np.abs(vectors - expected).max() < 0.01


def test_vectors_are_unit_length_and_do_not_depend_on_the_batch():
    encoder = shared_encoder()
    alone = encoder.encode(["is ketamine safe"])[0]
    together = encoder.encode(["is ketamine safe", "a much longer message about infusions " * 5])
    assert np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(alone - together[0]).max() < 1e-4


def test_encode_many_keeps_the_order_of_its_input():
    encoder = shared_encoder()
    texts = ["a long message " * 20, "short", "medium length message here"]
    many = encoder.encode_many(texts, batch_size=2)
    for row, text in enumerate(texts):
        assert np.abs(many[row] - encoder.encode([text])[0]).max() < 1e-4


def test_a_model_file_that_is_not_the_pinned_model_is_refused(tmp_path):
    from bot.core.encoder import EncoderUnavailable, model_files

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(EncoderUnavailable, match="is not all-MiniLM-L6-v2"):
        SentenceEncoder(fake, model_files()[1])


def test_long_messages_are_read_as_bounded_windows_that_keep_the_end():
    story = "word " * 20_000 + "the very end"
    windows = encoder_windows(story)
    assert len(windows) == ENCODER_MAX_WINDOWS
    assert windows[-1].endswith("the very end")
    assert encoder_windows("  \u200b <@123> https://example.org  ") == []
