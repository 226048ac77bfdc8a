"""Trained detectors in ``knowledge/models/``: read, validated, and checked for staleness.

A detector is only as good as the corpus it learned from, so its file records a hash of
that corpus; when the corpus (next to ``knowledge/`` in a checkout) no longer hashes the
same, ``validate`` says the model must be retrained rather than serving a stale one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from bot.knowledge.problems import Problem
from bot.knowledge.schema import DetectorFile

MODELS_FOLDER = "models"
DETECTORS = ("crisis", "advice")
RETRAIN = "python -m bot.training train"


def corpus_digest(folder: Path, files: Iterable[str]) -> str:
    """The hash of a corpus: each file's name and bytes, in the order given."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    return digest.hexdigest()


def read_detector(path: Path, label: str) -> tuple[DetectorFile | None, list[Problem]]:
    """Parse and validate one detector file; problems instead of exceptions."""
    if not path.is_file():
        return None, [Problem(label, 1, f"required model is missing; train it with: {RETRAIN}")]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = getattr(error, "lineno", 1)
        return None, [Problem(label, line, f"not valid JSON ({error.__class__.__name__})")]
    try:
        return DetectorFile.model_validate(data), []
    except ValidationError as error:
        return None, [
            Problem(label, 1, f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}")
            for issue in error.errors()
        ]


def stale_training(detector: DetectorFile, repository: Path, label: str) -> list[Problem]:
    """Say so when the corpus beside this checkout is not the one the detector learned from.

    An installed bot has no corpus beside it: then there is nothing to compare.
    """
    folder = repository / detector.training.folder
    if not folder.is_dir():
        return []
    missing = [name for name in detector.training.files if not (folder / name).is_file()]
    if missing:
        return [Problem(label, 1, f"training file {folder / missing[0]} is missing")]
    if corpus_digest(folder, detector.training.files) != detector.training.sha256:
        return [
            Problem(
                label,
                1,
                f"{detector.training.folder} changed since this model was trained; "
                f"retrain with: {RETRAIN}",
            )
        ]
    return []
