"""A new round's writers: their briefs, and their files gathered for freeze."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase
from bot.knowledge.yamlfile import load_data
from bot.training.__main__ import main


def _brief(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    article = tmp_path / "article.txt"
    article.write_text("Ketamine for PTSD: an article.\n", encoding="utf-8")
    folder = tmp_path / "round"
    assert main(["brief", str(folder), "--article", str(article)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Read {folder / 'brief' / name} and do exactly what it says."
        for name in (
            "task-crisis.md",
            "task-notcrisis.md",
            "task-everyday.md",
            "task-advice.md",
            "task-questions-1.md",
            "task-questions-2.md",
            "task-questions-3.md",
        )
    ]
    return folder


def test_writers_see_the_policies_the_article_and_answers_never_phrasings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], knowledge: KnowledgeBase
):
    folder = _brief(tmp_path, capsys)
    brief = folder / "brief"
    assert (brief / "article.txt").read_text() == "Ketamine for PTSD: an article.\n"
    assert (brief / "crisis-policy.md").read_text().startswith("## Labelling policy")
    assert "`crisis`:" in (brief / "crisis-policy.md").read_text()
    assert "`advice`:" in (brief / "advice-policy.md").read_text()
    entries = (brief / "entries.md").read_text()
    for entry in knowledge.entries.values():
        assert f"### {entry.id}\nQuestion: {entry.question}\n" in entries
        assert " ".join(entry.answer.split()) in entries
        shown = f"{entry.question} {entry.answer}".lower()  # a phrasing may repeat those
        leaked = [
            p for p in entry.phrasings if len(p.split()) >= 4 and p in entries and p not in shown
        ]
        assert leaked == [], entry.id
    groups = [(brief / f"group{n}.txt").read_text().split() for n in (1, 2, 3)]
    assert sorted(entry for group in groups for entry in group) == sorted(knowledge.entries)
    second = (brief / "task-questions-2.md").read_text()
    assert f"{folder / 'out'}/q2.yaml" in second and "group2.txt" in second
    assert "{" not in second and "{" not in (brief / "common.md").read_text()
    assert (folder / "out").is_dir()


def test_a_folder_with_a_brief_or_a_missing_article_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = _brief(tmp_path, capsys)
    assert main(["brief", str(folder), "--article", str(tmp_path / "article.txt")]) == 2
    assert "exists: use a fresh folder" in capsys.readouterr().err
    assert main(["brief", str(tmp_path / "other"), "--article", str(tmp_path / "none")]) == 2
    assert "the article is not there" in capsys.readouterr().err


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _messages(label: str, category: str, text: str) -> str:
    return f'messages:\n  - text: "{text}"\n    label: {label}\n    category: {category}\n'


def _writers_files(out: Path, everyday_category: str = "logistics") -> None:
    _write(out / "crisis.yaml", _messages("crisis", "direct", "i want to die"))
    _write(out / "notcrisis.yaml", _messages("not_crisis", "idiom", "this wait is killing me"))
    _write(out / "everyday.yaml", _messages("not_crisis", everyday_category, "can i drive after"))
    _write(out / "advice.yaml", _messages("advice", "dose", "how much should i take"))
    for n in (1, 2, 3):
        _write(
            out / f"q{n}.yaml",
            f'questions:\n  study-authors:\n    - "who wrote it {n}"\n'
            f'  not_covered:\n    - "does medicare pay {n}"\n',
        )


def test_assemble_writes_the_fresh_sets_freeze_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = _brief(tmp_path, capsys)
    _writers_files(folder / "out")
    assert main(["assemble", str(folder)]) == 0
    incoming = folder / "incoming"
    safety = load_data(incoming / "safety-test.yaml")["messages"]
    assert [(m["text"], m["label"], m["category"]) for m in safety] == [
        ("i want to die", "crisis", "direct"),
        ("this wait is killing me", "not_crisis", "idiom"),
    ]
    questions = load_data(incoming / "questions-test.yaml")["questions"]
    assert questions == {
        "study-authors": ["who wrote it 1", "who wrote it 2", "who wrote it 3"],
        "not_covered": ["does medicare pay 1", "does medicare pay 2", "does medicare pay 3"],
    }
    assert sorted(p.name for p in incoming.iterdir()) == [
        "advice-test.yaml", "everyday-test.yaml", "questions-test.yaml", "safety-test.yaml",
    ]  # fmt: skip


def test_assemble_refuses_a_category_the_task_does_not_allow_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = _brief(tmp_path, capsys)
    _writers_files(folder / "out", everyday_category="grief")  # a crisis-split category
    assert main(["assemble", str(folder)]) == 2
    error = capsys.readouterr().err
    assert "everyday.yaml: message 1 is not_crisis/grief" in error
    assert not (folder / "incoming").exists()
