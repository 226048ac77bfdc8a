"""The moderators' pull-request check: it runs `validate`, and its errors land on the right line."""

from __future__ import annotations

import json
import re
import shutil

import yaml

from bot.cli import main
from tests.conftest import KNOWLEDGE_DIR, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "knowledge.yml"
MATCHER = ROOT / ".github" / "knowledge-problems.json"


def test_every_pull_request_touching_knowledge_runs_validate_on_the_installed_package():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true

    assert "knowledge/**" in triggers["pull_request"]["paths"]
    steps = workflow["jobs"]["validate"]["steps"]
    commands = [step.get("run") for step in steps if "run" in step]
    assert commands == [
        "python -m pip install .",
        'echo "::add-matcher::.github/knowledge-problems.json"',
        "ketamine-bot validate knowledge",
    ]
    assert workflow["permissions"] == {"contents": "read"}


def test_the_problem_matcher_reads_what_validate_prints(tmp_path, monkeypatch, capsys):
    """GitHub shows each `file:line: message` on the pull request's changed line."""
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    entries = tmp_path / "knowledge" / "entries" / "ptsd.yaml"
    entries.write_text(entries.read_text().replace("question:", "questoin:", 1))
    monkeypatch.chdir(tmp_path)

    assert main(["validate", "knowledge"]) == 1

    pattern = json.loads(MATCHER.read_text())["problemMatcher"][0]["pattern"][0]
    matches = [re.match(pattern["regexp"], line) for line in capsys.readouterr().out.splitlines()]
    assert matches and all(matches)
    found = [(m[pattern["file"]], m[pattern["message"]]) for m in matches]
    assert (
        "knowledge/entries/ptsd.yaml",
        "entries.0.questoin: unknown key (is it misspelt?)",
    ) in found
    for match in matches:
        line = int(match[pattern["line"]])
        assert 1 <= line <= len((tmp_path / match[pattern["file"]]).read_text().splitlines())
