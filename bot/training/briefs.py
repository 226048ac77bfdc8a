"""The writers' side of a new round: their briefs, and their files gathered for ``freeze``.

Fresh writers see only the labelling policies, the article and (for questions) each entry's
question and answer, never its phrasings. ``brief`` writes exactly that into a folder
outside the repository, from the templates in ``tests/data/briefs/`` (which task each
writer does, and what their file may hold: ``tasks.yaml``), so a round is written the same
way whoever starts it. ``assemble`` checks each writer's file against its task (labels,
categories, entry ids) and writes the fresh sets ``freeze`` reads.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.yamlfile import load_data
from bot.training.rounds import messages_body, questions_body

BRIEFS = Path("tests/data/briefs")
POLICIES = {  # what each writer may read, from the corpora's own READMEs
    "crisis-policy.md": Path("tests/data/safety/README.md"),
    "advice-policy.md": Path("tests/data/advice/README.md"),
}
POLICY_HEADING = "## Labelling policy"
UNANSWERED = ("not_covered", "out_of_scope")


class Task(BaseModel):
    """One writer's job (``tests/data/briefs/tasks.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    brief: str
    output: str
    set: str
    labels: dict[str, list[str]] = Field(default_factory=dict)
    groups: int = Field(default=0, ge=0)  # questions: one writer per group of entries

    def copies(self) -> list[tuple[str, str, int]]:
        """(brief file, output file, group) for each writer of this task."""
        if not self.groups:
            return [(self.brief, self.output, 0)]
        return [
            (self.brief.replace(".md", f"-{n}.md"), self.output.replace("{group}", str(n)), n)
            for n in range(1, self.groups + 1)
        ]


def tasks(repository: Path) -> list[Task]:
    """The round's tasks, as ``tasks.yaml`` lists them."""
    listed = load_data(repository / BRIEFS / "tasks.yaml")["tasks"]
    return [Task.model_validate(task) for task in listed]


def _policy(readme: Path) -> str:
    text = readme.read_text(encoding="utf-8")
    if POLICY_HEADING not in text:
        raise ValueError(f"{readme} has no '{POLICY_HEADING}' section")
    return text[text.index(POLICY_HEADING) :]


def _entries(knowledge: KnowledgeBase) -> str:
    """Each entry's id, question and answer: what a question writer may see (no phrasings)."""
    lines = ["# The bot's knowledge base: each entry's id, question and answer\n"]
    for entry in knowledge.entries.values():
        answer = " ".join(entry.answer.split())
        lines.append(f"\n### {entry.id}\nQuestion: {entry.question}\nAnswer: {answer}\n")
    return "".join(lines)


def write_briefs(
    repository: Path, knowledge: KnowledgeBase, folder: Path, article: Path
) -> list[str]:
    """Write every writer's brief into ``folder/brief`` and make ``folder/out`` for them.

    Returns one line per writer: the brief to hand them. Refuses a folder that already
    holds a brief, so a round's writers never get two versions.
    """
    brief, out = folder / "brief", folder / "out"
    if brief.exists():
        raise ValueError(f"{brief} exists: use a fresh folder for each round")
    if not article.is_file():
        raise ValueError(f"{article}: the article is not there (pass --article)")
    brief.mkdir(parents=True)
    out.mkdir(exist_ok=True)
    (brief / "article.txt").write_text(article.read_text(encoding="utf-8"), encoding="utf-8")
    for name, readme in POLICIES.items():
        (brief / name).write_text(_policy(repository / readme), encoding="utf-8")
    (brief / "entries.md").write_text(_entries(knowledge), encoding="utf-8")
    ids = list(knowledge.entries)
    lines = []
    templates = repository / BRIEFS
    common = (templates / "common.md").read_text(encoding="utf-8")
    (brief / "common.md").write_text(_fill(common, folder, 0), encoding="utf-8")
    for task in tasks(repository):
        template = (templates / task.brief).read_text(encoding="utf-8")
        for name, _, group in task.copies():
            if group:
                chunk = ids[group - 1 :: task.groups]
                (brief / f"group{group}.txt").write_text("\n".join(chunk) + "\n", encoding="utf-8")
            (brief / name).write_text(_fill(template, folder, group), encoding="utf-8")
            lines.append(f"Read {brief / name} and do exactly what it says.")
    return lines


def _fill(template: str, folder: Path, group: int) -> str:
    return (
        template.replace("{brief}", str(folder / "brief"))
        .replace("{out}", str(folder / "out"))
        .replace("{group}", str(group))
    )


def assemble(repository: Path, knowledge: KnowledgeBase, folder: Path) -> list[str]:
    """Check the writers' files in ``folder/out`` and write ``folder/incoming`` for freeze.

    Every message must carry a label and category its task allows, every question a label
    that is an entry id, ``not_covered`` or ``out_of_scope``; otherwise nothing is written.
    """
    messages: dict[str, list[dict[str, str]]] = {}
    questions: dict[str, dict[str, list[str]]] = {}
    for task in tasks(repository):
        for _, output, _ in task.copies():
            path = folder / "out" / output
            if not path.is_file():
                raise ValueError(f"{path} is missing: its writer has not finished")
            data = load_data(path)
            if task.groups:
                groups = questions.setdefault(task.set, {})
                for label, texts in (data.get("questions") or {}).items():
                    if label not in knowledge.entries and label not in UNANSWERED:
                        raise ValueError(f"{path}: {label!r} is not an entry id or {UNANSWERED}")
                    groups.setdefault(label, []).extend(str(text) for text in texts or [])
                continue
            for number, item in enumerate(data.get("messages") or [], 1):
                label, category = item.get("label"), item.get("category")
                if category not in task.labels.get(label, []):
                    raise ValueError(
                        f"{path}: message {number} is {label}/{category}, not a label and "
                        f"category its task allows ({task.brief})"
                    )
                text = str(item.get("text") or "").strip()
                if not text:
                    raise ValueError(f"{path}: message {number} has no text")
                messages.setdefault(task.set, []).append(
                    {"text": text, "label": label, "category": category}
                )
    incoming = folder / "incoming"
    incoming.mkdir(exist_ok=True)
    report = []
    for name, items in messages.items():
        (incoming / name).write_text(messages_body(items), encoding="utf-8")
        counts = Counter(item["label"] for item in items)
        report.append(f"{incoming / name}: {len(items)} messages {json.dumps(counts)}")
    for name, groups in questions.items():
        (incoming / name).write_text(questions_body(groups), encoding="utf-8")
        total = sum(map(len, groups.values()))
        report.append(f"{incoming / name}: {total} questions")
    return report
