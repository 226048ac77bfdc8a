"""Load ``knowledge/`` from disk: every file validated, every problem reported at once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import BaseModel

from bot.core.synonyms import Canonicalizer
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.checks import (
    LoadedEntries,
    check_entries,
    check_not_covered,
    check_phrasings,
    check_safety,
    check_sources,
)
from bot.knowledge.models import (
    ANSWER_CHECK,
    DETECTORS,
    MODELS_FOLDER,
    model_problems,
    pinned_problems,
    read_model,
    stale_training,
)
from bot.knowledge.problems import KnowledgeError, Problem
from bot.knowledge.schema import (
    AnswerCheckFile,
    DetectorFile,
    EntryFile,
    NotCoveredFile,
    Replies,
    SafetyFile,
    SettingsFile,
    SourcesFile,
    SynonymsFile,
)
from bot.knowledge.yamlfile import YamlDocument, read_yaml

ENTRIES_FOLDER = "entries"
REQUIRED_FILES: dict[str, type[BaseModel]] = {
    "sources.yaml": SourcesFile,
    "synonyms.yaml": SynonymsFile,
    "safety.yaml": SafetyFile,
    "replies.yaml": Replies,
}
OPTIONAL_FILES: dict[str, type[BaseModel]] = {
    "settings.yaml": SettingsFile,
    "not-covered.yaml": NotCoveredFile,
}


SHIPPED = Path(__file__).resolve().parents[1] / "shipped_knowledge"
"""The shipped knowledge base: a link to the top-level ``knowledge/`` in a checkout, a copy
of it in an installed wheel (see ``[tool.setuptools.package-data]``)."""


def default_knowledge_dir() -> Path:
    """``KNOWLEDGE_DIR`` when set, else the knowledge base shipped with the package."""
    configured = os.environ.get("KNOWLEDGE_DIR")
    if configured:
        return Path(configured)
    return SHIPPED.resolve()  # in a checkout: the knowledge/ folder moderators edit


def _label(path: Path) -> str:
    """Show paths relative to the working folder when that is shorter, as editors expect."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return relative if not relative.startswith("..") else str(path)


class _Reader:
    """Collects documents and problems while the files are read."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.digest = hashlib.sha256()

    def read(
        self, path: Path, model: type[BaseModel]
    ) -> tuple[YamlDocument | None, BaseModel | None]:
        document, problems = read_yaml(path, _label(path))
        self.problems += problems
        if path.exists():
            self.digest.update(
                str(path.relative_to(self.directory)).encode() + b"\0" + path.read_bytes()
            )
        if document is None or document.data is None:
            return document, None
        content, problems = document.validate(model)
        self.problems += problems
        return document, content


def _stray_files(directory: Path) -> list[Problem]:
    """Files a moderator may expect to be read but are not: say so instead of ignoring them."""
    known = set(REQUIRED_FILES) | set(OPTIONAL_FILES)
    problems = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix in {".yaml", ".yml"} and path.name not in known:
            problems.append(
                Problem(
                    _label(path), 1, f"not a knowledge file; entry files go in {ENTRIES_FOLDER}/"
                )
            )
    entries = directory / ENTRIES_FOLDER
    if entries.is_dir():
        for path in sorted(entries.glob("*.yml")):
            problems.append(Problem(_label(path), 1, "rename to .yaml so it is read"))
    return problems


def load_knowledge(
    directory: Path | str | None = None,
    *,
    answer_check: bool = True,
    check_training: bool = True,
) -> KnowledgeBase:
    """Load and validate the knowledge base; raise ``KnowledgeError`` listing every problem.

    ``answer_check=False`` leaves ``models/answers.json`` unread: what refitting it needs,
    since a stale file must not stop its own refit. ``check_training=False`` accepts
    detectors trained before the labelled sets last changed: what a tool that reads only
    the entries needs (a new round's briefs are written right after the old round is
    retired, before the refit that retiring calls for).
    """
    directory = Path(directory) if directory is not None else default_knowledge_dir()
    if not directory.is_dir():
        raise KnowledgeError([Problem(_label(directory), 1, "no such knowledge folder")])
    reader = _Reader(directory)
    reader.problems += _stray_files(directory)

    parts: dict[str, tuple[YamlDocument | None, BaseModel | None]] = {}
    for name, model in REQUIRED_FILES.items():
        path = directory / name
        if not path.exists():
            reader.problems.append(Problem(_label(path), 1, "required file is missing"))
            parts[name] = (None, None)
        else:
            parts[name] = reader.read(path, model)
    not_covered_path = directory / "not-covered.yaml"
    not_covered_doc, not_covered = (
        reader.read(not_covered_path, NotCoveredFile)
        if not_covered_path.exists()
        else (None, NotCoveredFile())
    )
    settings_path = directory / "settings.yaml"
    settings = (
        reader.read(settings_path, SettingsFile)[1] if settings_path.exists() else SettingsFile()
    )

    # Hidden names are editors' lock and swap files (emacs .#x.yaml), never entries.
    entry_paths = sorted(
        path
        for path in (directory / ENTRIES_FOLDER).glob("*.yaml")
        if not path.name.startswith(".")
    )
    if not entry_paths:
        reader.problems.append(
            Problem(_label(directory / ENTRIES_FOLDER), 1, "no entry files (*.yaml) found")
        )
    loaded: list[LoadedEntries] = []
    for path in entry_paths:
        document, content = reader.read(path, EntryFile)
        if document is not None and isinstance(content, EntryFile):
            loaded.append(LoadedEntries(document, content))
    all_entries_read = len(loaded) == len(entry_paths)

    sources_doc, sources = parts["sources.yaml"]
    synonyms = parts["synonyms.yaml"][1]
    safety_doc, safety = parts["safety.yaml"]
    replies = parts["replies.yaml"][1]

    if isinstance(sources_doc, YamlDocument) and isinstance(sources, SourcesFile):
        reader.problems += check_sources(sources_doc, sources)
        reader.problems += check_entries(loaded, {source.id for source in sources.sources})
    canonicalizer = None
    if isinstance(synonyms, SynonymsFile):
        canonicalizer = Canonicalizer(synonyms.synonyms, synonyms.ignore_words)
        reader.problems += check_phrasings(loaded, canonicalizer)
    entry_ids = {entry.id for part in loaded for entry in part.content.entries}
    detectors = {}
    for name in DETECTORS:
        path = directory / MODELS_FOLDER / f"{name}.json"
        detector, problems = read_model(path, _label(path), DetectorFile)
        reader.problems += problems
        if detector is not None:
            reader.digest.update(f"{MODELS_FOLDER}/{name}\0".encode() + path.read_bytes())
            if check_training:
                reader.problems += stale_training(detector, directory.parent, _label(path))
            reader.problems += model_problems(detector, directory / MODELS_FOLDER, _label(path))
            detectors[name] = detector
    check = None
    answers_path = directory / MODELS_FOLDER / f"{ANSWER_CHECK}.json"
    if answer_check and answers_path.is_file():
        check, problems = read_model(answers_path, _label(answers_path), AnswerCheckFile)
        reader.problems += problems
        if check is not None:
            reader.digest.update(f"{MODELS_FOLDER}/{ANSWER_CHECK}\0".encode())
            reader.digest.update(answers_path.read_bytes())
            reader.problems += stale_training(check, directory.parent, _label(answers_path))
            if check.questions is not None:
                reader.problems += pinned_problems(
                    [check.questions], directory / MODELS_FOLDER, _label(answers_path)
                )
    # With an entry file unreadable, every reference into it would look broken: say only
    # what is really wrong.
    if all_entries_read and isinstance(safety_doc, YamlDocument) and isinstance(safety, SafetyFile):
        reader.problems += check_safety(safety_doc, safety, entry_ids)
    if (
        all_entries_read
        and isinstance(not_covered_doc, YamlDocument)
        and isinstance(not_covered, NotCoveredFile)
    ):
        reader.problems += check_not_covered(not_covered_doc, not_covered, entry_ids)

    if reader.problems:
        raise KnowledgeError(reader.problems)
    assert isinstance(sources, SourcesFile) and isinstance(synonyms, SynonymsFile)
    assert canonicalizer is not None
    assert isinstance(safety, SafetyFile) and isinstance(replies, Replies)
    assert isinstance(settings, SettingsFile) and isinstance(not_covered, NotCoveredFile)
    entries = {entry.id: entry for part in loaded for entry in part.content.entries}
    sections = {entry.id: part.content.section for part in loaded for entry in part.content.entries}
    return KnowledgeBase(
        directory=directory,
        version=reader.digest.hexdigest()[:12],
        entries=entries,
        sections=sections,
        sources={source.id: source for source in sources.sources},
        synonyms=synonyms,
        canonicalizer=canonicalizer,
        safety=safety,
        replies=replies,
        matching=settings.matching,
        limits=settings.limits,
        detectors=detectors,
        answer_check=check,
        not_covered={topic.id: topic for topic in not_covered.topics},
    )


def validate_knowledge(directory: Path | str | None = None) -> list[Problem]:
    """Every problem in the knowledge base; an empty list means it is sound."""
    try:
        load_knowledge(directory)
    except KnowledgeError as error:
        return error.problems
    return []
