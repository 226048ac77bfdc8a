"""A new round of frozen test sets: nothing lost in the move, nothing seen before frozen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.training.rounds import freeze, retire, retired_rounds

DAY = dt.date(2026, 12, 1)


def _messages(path: Path, *texts: str, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'- text: "{t}"\n  label: not_crisis\n  category: general\n' for t in texts)
    path.write_text(header + "messages:\n" + body, encoding="utf-8")


def _texts(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "questions" in data:
        return [q for texts in data["questions"].values() for q in texts]
    return [m["text"] for m in data["messages"]]


def test_retire_appends_every_frozen_set_unchanged_and_removes_it(tmp_path: Path):
    data = tmp_path / "data"
    _messages(data / "safety/retired-test.yaml", "old one", header="# retired before\n")
    _messages(data / "safety/test.yaml", "scored one", "scored two")
    (data / "questions").mkdir()
    (data / "questions/retired-test.yaml").write_text(
        "# retired questions\nquestions:\n  study-dose:\n    - what dose was used\n"
    )
    (data / "questions/test.yaml").write_text(
        "questions:\n  study-dose:\n    - how much ket did they give\n"
        "  out_of_scope:\n    - best pizza in town\n"
    )
    moved = retire(data, "the fourth round, scored once", DAY)
    assert moved == [
        "safety/test.yaml -> safety/retired-test.yaml: now 3 items",
        "questions/test.yaml -> questions/retired-test.yaml: now 3 items",
    ]
    retired = (data / "safety/retired-test.yaml").read_text()
    assert retired.startswith("# retired before\n")
    assert "# --- Added 2026-12-01: the fourth round, scored once\n" in retired
    assert _texts(data / "safety/retired-test.yaml") == ["old one", "scored one", "scored two"]
    questions = yaml.safe_load((data / "questions/retired-test.yaml").read_text())["questions"]
    assert questions == {
        "study-dose": ["what dose was used", "how much ket did they give"],
        "out_of_scope": ["best pizza in town"],
    }
    assert (data / "questions/retired-test.yaml").read_text().startswith("# retired questions\n")
    assert not (data / "safety/test.yaml").exists()
    assert not (data / "questions/test.yaml").exists()
    assert retire(data, "again", DAY) == []  # nothing frozen left to move


def test_freeze_deletes_what_was_seen_before_and_counts_it_in_the_header(tmp_path: Path):
    data, knowledge, incoming = tmp_path / "data", tmp_path / "knowledge", tmp_path / "incoming"
    _messages(data / "safety/train.yaml", "can i drive home after my infusion")
    (knowledge / "entries").mkdir(parents=True)
    (knowledge / "entries/a.yaml").write_text(
        "entries:\n  - id: study-dose\n    phrasings: [what dose did the study use]\n"
    )
    _messages(
        incoming / "everyday-test.yaml",
        "Can I drive home after my infusion??",  # train, folded
        "is parking free at the clinic",  # fresh
        "is the parking free at the clinic",  # nearly the one before it
        "🙂🙂",  # folds to nothing
    )
    (incoming / "questions-test.yaml").write_text(
        "questions:\n  study-dose:\n    - what dose did the study use\n"
        "    - how many mg per kg did people get\n"
        "    - ok so WHAT DOSE did the study use, asking for my mum\n"  # holds the phrasing
        "    - what dose did they give\n"  # two of its words in a row: fresh
    )
    report = freeze(incoming, data, knowledge, "the fifth round, by a new writer", DAY)
    assert report == [
        f"{data / 'safety/everyday-test.yaml'}: 1 of 4 kept",
        f"{data / 'questions/test.yaml'}: 2 of 4 kept",
    ]
    everyday = (data / "safety/everyday-test.yaml").read_text()
    assert everyday.startswith("# FROZEN, written 2026-12-01: the fifth round, by a new writer\n")
    assert "Before any scoring, 3 of 4 written items" in everyday
    assert _texts(data / "safety/everyday-test.yaml") == ["is parking free at the clinic"]
    assert _texts(data / "questions/test.yaml") == [
        "how many mg per kg did people get",
        "what dose did they give",
    ]
    assert "or held a knowledge wording, were deleted" in (data / "questions/test.yaml").read_text()


def test_freeze_refuses_to_overwrite_a_frozen_set(tmp_path: Path):
    data, incoming = tmp_path / "data", tmp_path / "incoming"
    _messages(data / "advice/test.yaml", "still frozen")
    _messages(incoming / "advice-test.yaml", "a fresh one")
    with pytest.raises(ValueError, match="retire it first"):
        freeze(incoming, data, tmp_path / "knowledge", "note", DAY)
    assert _texts(data / "advice/test.yaml") == ["still frozen"]


def test_a_retired_file_is_cut_back_into_the_rounds_it_was_built_from(tmp_path: Path):
    data = tmp_path / "data"
    _messages(data / "safety/retired-test.yaml", "first a", "first b", header="# retired\n")
    _messages(data / "safety/test.yaml", "second a")
    retire(data, "the second round", DAY)
    _messages(data / "safety/test.yaml", "third a", "third b", "third c")
    retire(data, "the third round", DAY)
    rounds = retired_rounds(data / "safety/retired-test.yaml")
    assert [[m["text"] for m in messages] for messages in rounds] == [
        ["first a", "first b"],
        ["second a"],
        ["third a", "third b", "third c"],
    ]
    assert rounds[1][0] == {"text": "second a", "label": "not_crisis", "category": "general"}
