"""The encoder: unit-length vectors, independent of batching, and bounded windows."""

import re

import numpy as np
import pytest

from bot.core.encoder import DIMENSIONS, EncoderUnavailable, SentenceEncoder, encoder_for
from bot.core.normalize import ENCODER_MAX_WINDOWS, encoder_windows
from bot.knowledge import KnowledgeBase


@pytest.fixture(scope="module")
def encoder(knowledge: KnowledgeBase) -> SentenceEncoder:
    return encoder_for(knowledge.directory, knowledge.detectors["crisis"])


def test_vectors_are_unit_length_and_do_not_depend_on_the_batch(encoder: SentenceEncoder):
    alone = encoder.encode(["is ketamine safe"])[0]
    together = encoder.encode(["is ketamine safe", "a much longer message about infusions " * 5])
    assert alone.shape == (DIMENSIONS,)
    assert np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(alone - together[0]).max() < 1e-4


def test_encode_many_keeps_the_order_of_its_input(encoder: SentenceEncoder):
    texts = ["a long message " * 20, "short", "medium length message here"]
    many = encoder.encode_many(texts, batch_size=2)
    for row, text in enumerate(texts):
        assert np.abs(many[row] - encoder.encode([text])[0]).max() < 1e-4


def test_the_encoder_is_loaded_once_per_model(knowledge: KnowledgeBase, encoder: SentenceEncoder):
    assert encoder_for(knowledge.directory, knowledge.detectors["advice"]) is encoder


def test_a_missing_model_file_is_a_clear_error(tmp_path, knowledge: KnowledgeBase):
    detector = knowledge.detectors["crisis"].model_copy(
        update={
            "encoder": knowledge.detectors["crisis"].encoder.model_copy(update={"sha256": "0" * 64})
        }
    )
    with pytest.raises(EncoderUnavailable, match=re.escape("safety-encoder.onnx is missing")):
        encoder_for(tmp_path, detector)


def test_long_messages_are_read_as_bounded_windows_that_keep_the_end():
    story = "word " * 20_000 + "the very end"
    windows = encoder_windows(story)
    assert len(windows) == ENCODER_MAX_WINDOWS
    assert windows[-1].endswith("the very end")
    assert encoder_windows("  \u200b <@123> https://example.org  ") == []
