"""Labelled member messages as stored in ``tests/data/<corpus>/``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.normalize import normalize
from bot.knowledge.yamlfile import load_data

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Labelled:
    """One message and what a careful reader says it is."""

    text: str
    label: str
    category: str


def fold(text: str) -> str:
    """The form two messages are compared in: case, punctuation and spacing ignored."""
    return normalize(text)


def read_messages(path: Path) -> list[Labelled]:
    """Messages from one corpus file (``messages: [{text, label, category}]``)."""
    data = load_data(path)
    return [
        Labelled(str(item["text"]), str(item["label"]), str(item.get("category", "")))
        for item in data.get("messages", [])
    ]


def read_split(folder: Path, split: str) -> list[Labelled]:
    """One split of a corpus folder."""
    return read_messages(folder / f"{split}.yaml")


def write_messages(path: Path, header: str, messages: Iterable[Labelled]) -> None:
    """Write a corpus file a person can read and edit: one message per item, a header first."""
    items = [
        {"text": message.text, "label": message.label, "category": message.category}
        for message in messages
    ]
    body = yaml.safe_dump(
        {"messages": items}, allow_unicode=True, sort_keys=False, width=100, default_style=None
    )
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    path.write_text(comment + body, encoding="utf-8")


def knowledge_wordings(knowledge: Path) -> list[str]:
    """Every question and phrasing in a knowledge folder: ordinary questions, never a crisis."""
    wordings: list[str] = []
    for path in [*sorted((knowledge / "entries").glob("*.yaml")), knowledge / "not-covered.yaml"]:
        if not path.exists():
            continue
        document = load_data(path)
        for item in document.get("entries", []) + document.get("topics", []):
            wordings += [item.get("question", ""), *item.get("phrasings", [])]
    return [wording for wording in wordings if wording]
