"""Trained detectors in ``knowledge/models/``: read, validated, and checked for staleness.

A detector is only as good as the corpus it learned from, so its file records a hash of
that corpus; when the corpus (next to ``knowledge/`` in a checkout) no longer hashes the
same, ``validate`` says the model must be retrained rather than serving a stale one.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from bot.knowledge.problems import Problem
from bot.knowledge.schema import AnswerCheckFile, DetectorFile, EncoderRef, NeighbourRef

MODELS_FOLDER = "models"
DETECTORS = ("crisis", "advice")
ANSWER_CHECK = "answers"  # models/answers.json: optional; without it, the score bands decide
ModelFile = TypeVar("ModelFile", DetectorFile, AnswerCheckFile)
ENCODER_FILE = "safety-encoder.onnx"
TOKENIZER_FILE = "safety-tokenizer.json"
RETRAIN = "python -m bot.training train"
# New labelled messages need new heads, not a new encoder: minutes instead of hours.
REFIT = "python -m bot.training refit"


@functools.lru_cache(maxsize=16)
def _cached_sha256(path: Path, modified: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_sha256(path: Path) -> str:
    """A file's sha256, computed once per version of the file (the encoder is 23 MB)."""
    status = path.stat()
    return _cached_sha256(path.resolve(), status.st_mtime_ns, status.st_size)


def corpus_digest(repository: Path, files: Iterable[str]) -> str:
    """The hash of a corpus: each file's path and bytes, in the order given."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (repository / name).read_bytes() + b"\0")
    return digest.hexdigest()


def read_model(
    path: Path,
    label: str,
    schema: type[ModelFile] = DetectorFile,  # type: ignore[assignment]
) -> tuple[ModelFile | None, list[Problem]]:
    """Parse and validate one model file; problems instead of exceptions."""
    if not path.is_file():
        return None, [Problem(label, 1, f"required model is missing; train it with: {RETRAIN}")]
    raw = path.read_bytes()
    try:
        # pydantic's own JSON parser reads and checks in one pass, twice as fast as
        # json.loads then model_validate: the detectors are megabytes and start-up reads both
        return schema.model_validate_json(raw), []
    except ValidationError:
        pass  # read again below, to say what is wrong the way ``validate`` words it
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 1)
        return None, [Problem(label, line, f"not valid JSON ({error.__class__.__name__})")]
    try:
        return schema.model_validate(data), []
    except ValidationError as error:
        return None, [
            Problem(label, 1, f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}")
            for issue in error.errors()
        ]


def stale_training(
    model: DetectorFile | AnswerCheckFile, repository: Path, label: str
) -> list[Problem]:
    """Say so when the corpus beside this checkout is not the one the detector learned from.

    An installed bot has no corpus beside it (no ``tests/data``): nothing to compare then.
    """
    files = model.training.files
    present = [name for name in files if (repository / name).is_file()]
    if not present:
        return []
    if len(present) < len(files):
        missing = next(name for name in files if name not in present)
        return [Problem(label, 1, f"training file {missing} is missing")]
    if corpus_digest(repository, files) != model.training.sha256:
        changed = ", ".join(sorted({str(Path(name).parent) for name in files}))
        return [
            Problem(
                label,
                1,
                f"{changed} changed since this model was trained; "
                f"refit with: {REFIT} (or {RETRAIN}, to fine-tune the encoder too)",
            )
        ]
    return []


def model_problems(detector: DetectorFile, models: Path, label: str) -> list[Problem]:
    """Every file the detector names (encoder, tokenizer, neighbours) exists, byte for byte."""
    refs: list[EncoderRef | NeighbourRef] = [detector.encoder, detector.tokenizer]
    if detector.neighbours is not None:
        refs.append(detector.neighbours)
    return pinned_problems(refs, models, label)


def pinned_problems(
    refs: Iterable[EncoderRef | NeighbourRef], models: Path, label: str
) -> list[Problem]:
    """Each named file exists and is the one the model was trained with."""
    problems = []
    for ref in refs:
        path = models / ref.file
        if not path.is_file():
            problems.append(Problem(label, 1, f"{ref.file} is missing; retrain with: {RETRAIN}"))
        elif file_sha256(path) != ref.sha256:
            problems.append(
                Problem(label, 1, f"{ref.file} is not the file this model was trained with")
            )
    return problems
