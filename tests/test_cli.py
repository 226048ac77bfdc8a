"""The `ketamine-bot` command line, run as a member or a script would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE_DIR, ROOT


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "KNOWLEDGE_DIR"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )


def test_ask_prints_the_answer_with_citation_and_disclaimer():
    result = run("ask", "how fast does ketamine work for ptsd")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("How fast does ketamine work for PTSD?\n")
    assert "https://doi.org/10.1177/02698811241286726" in result.stdout
    assert "Not medical advice" in result.stdout


def test_ask_crisis_gives_resources_first():
    result = run("ask", "I want to end my life")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[2].startswith("- United States: call or text 988")


def test_ask_json_is_the_documented_object():
    result = run("ask", "--json", "what was the pcl5 score before treatment")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == [
        "question",
        "kind",
        "entry_id",
        "score",
        "text",
        "citations",
        "disclaimer",
        "suggestions",
        "choices",
    ]
    assert data["question"] == "what was the pcl5 score before treatment"
    assert (data["kind"], data["entry_id"]) == ("answer", "study-score-before")
    assert data["disclaimer"] in data["text"]


def test_ask_json_reads_json_lines_from_stdin_in_order():
    questions = ["how fast does ketamine work", "kms", "", "banana bread recipe", "what is ptsd"]
    result = run("ask", "--json", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["question"] for row in rows] == questions
    assert [row["kind"] for row in rows] == ["answer", "crisis", "help", "fallback", "answer"]


def test_ask_without_question_or_json_is_a_usage_error():
    result = run("ask")
    assert result.returncode == 2
    assert "give a QUESTION" in result.stderr


def test_sources_lists_every_doi():
    result = run("sources")
    assert result.returncode == 0
    for doi in (
        "10.1177/02698811241286726",
        "10.1038/s41386-022-01266-9",
        "10.1176/appi.ajp.2020.20050596",
    ):
        assert f"https://doi.org/{doi}" in result.stdout


def test_validate_ok_and_broken(tmp_path: Path):
    ok = run("validate")
    assert ok.returncode == 0, ok.stdout
    assert "OK" in ok.stdout
    broken = tmp_path / "kb"
    subprocess.run(["cp", "-r", str(KNOWLEDGE_DIR), str(broken)], check=True)
    (broken / "replies.yaml").write_text("disclaimer: [unclosed\n", encoding="utf-8")
    result = run("validate", str(broken))
    assert result.returncode == 1
    assert result.stdout == (
        f"{broken / 'replies.yaml'}:1: YAML syntax error: a '[' on this line is never closed\n"
    )
    assert "Traceback" not in result.stderr


def test_validate_routes_names_a_phrasing_that_leads_elsewhere(tmp_path: Path):
    """A personal medical question filed as a phrasing is taken by the advice screen."""
    edited = tmp_path / "kb"
    subprocess.run(["cp", "-r", str(KNOWLEDGE_DIR), str(edited)], check=True)
    path = edited / "entries" / "ptsd.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    after = lines.index("      - explain ptsd to me like im five\n") + 1
    lines.insert(after, "      - should i stop my zoloft before my first infusion next week\n")
    path.write_text("".join(lines), encoding="utf-8")
    assert run("validate", str(edited)).returncode == 0  # sound YAML: only asking shows it
    result = run("validate", "--routes", str(edited))
    assert result.returncode == 1
    assert result.stdout == (
        f"{path}:{after + 1}: 'should i stop my zoloft before my first infusion next week'"
        " (ptsd-what-is-it) gets advice stopping-medicines, not its own reply;"
        " reword it, or move it where it leads\n"
    )
    assert result.stderr == f"1 wording(s) lead elsewhere in {edited}\n"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_missing_knowledge_base_is_a_clear_error_not_a_traceback(tmp_path: Path, how: str):
    missing = tmp_path / "nowhere"
    if how == "option":
        result = run("--knowledge", str(missing), "ask", "what is ptsd")
    else:
        result = run("ask", "what is ptsd", env={"KNOWLEDGE_DIR": str(missing)})
    assert result.returncode == 1
    assert f"{missing}:1: no such knowledge folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_knowledge_option_after_the_command(tmp_path: Path):
    copy = tmp_path / "kb"
    subprocess.run(["cp", "-r", str(KNOWLEDGE_DIR), str(copy)], check=True)
    replies = copy / "replies.yaml"
    replies.write_text(
        replies.read_text().replace("Not medical advice:", "NOT MEDICAL ADVICE:"), encoding="utf-8"
    )
    result = run("ask", "what is ptsd", "--knowledge", str(copy))
    assert "NOT MEDICAL ADVICE:" in result.stdout


def test_console_answers_until_end_of_input():
    result = run("console", stdin="what is ptsd\nquit\n")
    assert result.returncode == 0
    assert "What is PTSD?" in result.stdout
    assert result.stdout.count("Not medical advice") == 2  # the greeting, then the answer


NO_TOKENS = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "DISCORD_TOKEN": ""}


def test_run_without_tokens_and_without_a_terminal_exits_2_in_one_line():
    """Under compose or systemd a quiet console that exits 0 would be a silent restart loop."""
    result = run("run", stdin="hi\n", env=NO_TOKENS)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "ketamine-bot run: no platform is configured (set DISCORD_TOKEN, or SLACK_BOT_TOKEN with "
        "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN); use `ketamine-bot run console` for the "
        "console\n"
    )


def test_run_console_starts_the_console_without_a_terminal():
    result = run("run", "console", stdin="hi\n", env=NO_TOKENS)
    assert result.returncode == 0, result.stderr
    assert "Ask me about ketamine for PTSD" in result.stdout


def test_run_without_tokens_at_a_terminal_starts_the_console():
    import pty

    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "KNOWLEDGE_DIR"} | NO_TOKENS
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment,
    ) as process:
        os.close(follower)
        os.write(leader, b"what is ketamine\n\x04")
        out, err = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 0, err
    assert "Ask me about ketamine for PTSD" in out.decode()


def test_ask_does_not_import_chat_libraries():
    code = (
        "import sys; from bot.cli import main; main(['ask', 'what is ptsd']);"
        "chat = {'discord', 'slack_bolt', 'slack_sdk', 'aiohttp'};"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in chat))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_ask_json_replaces_invalid_utf8_and_writes_valid_utf8():
    environment = {k: v for k, v in os.environ.items() if k != "KNOWLEDGE_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=b"what is \xff\xfe ketamine\ncaf\xc3\xa9 \xe9t\xe9\n",
        capture_output=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode("utf-8").splitlines()  # strict: raises on invalid UTF-8
    assert [json.loads(line)["question"] for line in lines] == [
        "what is \ufffd\ufffd ketamine",
        "café \ufffdt\ufffd",
    ]
