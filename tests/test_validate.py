"""`validate` names the right file and line for each kind of problem a moderator can make."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge, validate_knowledge
from tests.conftest import KNOWLEDGE_DIR


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_for(directory: Path) -> list[str]:
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in validate_knowledge(directory)]


def test_shipped_knowledge_base_is_sound():
    assert validate_knowledge(KNOWLEDGE_DIR) == []


def test_yaml_syntax_error_names_file_and_line(kb_copy: Path):
    path = kb_copy / "entries" / "risks.yaml"
    line = line_of(path, "  - id: risk-side-effects")
    replace(path, "  - id: risk-side-effects", "  - id: [risk-side-effects")
    assert problems_for(kb_copy) == [
        f"risks.yaml:{line}: YAML syntax error: a '[' on this line is never closed"
    ]


def test_an_unclosed_quote_is_reported_where_it_opens_not_at_the_end(kb_copy: Path):
    path = kb_copy / "entries" / "risks.yaml"
    replace(path, "  - id: risk-side-effects", '  - id: "risk-side-effects')
    line = line_of(path, '  - id: "risk-side-effects')
    assert problems_for(kb_copy) == [
        f"risks.yaml:{line}: YAML syntax error: a quote on this line is never closed"
    ]


def test_an_unclosed_quote_before_other_quotes_is_still_reported_where_it_opens(kb_copy: Path):
    """PyYAML reads on to the next quote in the file and fails lines later, on a key."""
    path = kb_copy / "entries" / "risks.yaml"
    opened = '      - "does ketamine cause raised blood pressure, and how long does that last'
    replace(path, opened + '"\n', opened + "\n")
    line = line_of(path, opened)
    assert '"' in path.read_text(encoding="utf-8").splitlines()[line]  # a quote follows
    assert problems_for(kb_copy) == [
        f"risks.yaml:{line}: YAML syntax error: a quote on this line is never closed"
    ]


def test_a_tab_is_reported_on_its_own_line(kb_copy: Path):
    path = kb_copy / "settings.yaml"
    replace(path, "  cooldown_seconds: 3", "\tcooldown_seconds: 3")
    line = line_of(path, "\tcooldown_seconds: 3")
    [problem] = problems_for(kb_copy)
    assert problem.startswith(f"settings.yaml:{line}: YAML syntax error: ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("on", "YAML reads yes/no/on/off/true/false as a yes-or-no; give a number"),
        ("yes", "YAML reads yes/no/on/off/true/false as a yes-or-no; give a number"),
        ("three", "should be a number, not 'three'"),
        ('"3"', "should be a number, not '3'"),
    ],
)
def test_a_setting_that_is_not_a_number_is_refused_on_its_line(
    kb_copy: Path, value: str, message: str
):
    path = kb_copy / "settings.yaml"
    replace(path, "  cooldown_seconds: 3", f"  cooldown_seconds: {value}")
    line = line_of(path, "  cooldown_seconds:")
    assert problems_for(kb_copy) == [f"settings.yaml:{line}: limits.cooldown_seconds: {message}"]


def test_a_whole_number_setting_refuses_a_fraction_and_a_yes(kb_copy: Path):
    path = kb_copy / "settings.yaml"
    replace(path, "  max_suggestions: 3", "  max_suggestions: on")
    line = line_of(path, "  max_suggestions:")
    assert problems_for(kb_copy) == [
        f"settings.yaml:{line}: matching.max_suggestions: YAML reads yes/no/on/off/true/false"
        " as a yes-or-no; give a number"
    ]


def test_schema_error_points_at_the_field(kb_copy: Path):
    path = kb_copy / "entries" / "risks.yaml"
    replace(path, "    reviewed: 2026-11-27", "    reviewed: last tuesday")
    line = line_of(path, "reviewed: last tuesday")
    problems = problems_for(kb_copy)
    assert problems == [
        f"risks.yaml:{line}: entries.0.reviewed: Input should be a valid date or datetime,"
        " invalid character in year"
    ]


def test_misspelt_key_is_reported_not_ignored(kb_copy: Path):
    path = kb_copy / "entries" / "risks.yaml"
    replace(path, "    question:", "    qustion:")
    line = line_of(path, "qustion:")
    assert problems_for(kb_copy) == [
        f"risks.yaml:{line - 1}: entries.0.question: required but missing",
        f"risks.yaml:{line}: entries.0.qustion: unknown key (is it misspelt?)",
    ]


def test_duplicate_id_across_files(kb_copy: Path):
    path = kb_copy / "entries" / "the-study.yaml"  # read after risks.yaml, so it is the repeat
    replace(path, "  - id: study-overview", "  - id: risk-side-effects")
    line = line_of(path, "  - id: risk-side-effects")
    problems = problems_for(kb_copy)
    assert any(
        p.startswith(f"the-study.yaml:{line}: entry id 'risk-side-effects' is already used in")
        and p.endswith("risks.yaml")
        for p in problems
    ), problems


def test_an_advice_topic_may_not_take_an_entry_id(kb_copy: Path):
    path = kb_copy / "safety.yaml"
    replace(path, "    - id: pregnancy", "    - id: risk-side-effects")
    line = line_of(path, "    - id: risk-side-effects")
    problems = problems_for(kb_copy)
    assert f"safety.yaml:{line}: id 'risk-side-effects' is already used by an entry" in problems


def test_unknown_source_id(kb_copy: Path):
    path = kb_copy / "entries" / "the-study.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("sources: [article, macconnel-2024]", "sources: [article, macconel-2024]", 1)
    )
    line = line_of(path, "macconel-2024")
    problems = problems_for(kb_copy)
    assert any(
        p.startswith(f"the-study.yaml:{line}: entry '")
        and "cites unknown source 'macconel-2024'" in p
        for p in problems
    ), problems


def test_empty_answer(kb_copy: Path):
    path = kb_copy / "entries" / "setting.yaml"
    data = path.read_text(encoding="utf-8")
    start = data.index("    answer: >-")
    end = data.index("\n    ", data.index("\n", start) + 1)
    while data[end + 5] == " ":  # skip the folded answer's continuation lines
        end = data.index("\n    ", end + 1)
    path.write_text(data[:start] + '    answer: ""' + data[end:], encoding="utf-8")
    line = line_of(path, 'answer: ""')
    assert f"setting.yaml:{line}: entries.0.answer: is empty" in problems_for(kb_copy)


def test_same_phrasing_in_two_entries(kb_copy: Path):
    knowledge = load_knowledge(KNOWLEDGE_DIR)
    borrowed = knowledge.entries["risk-side-effects"].phrasings[0]
    path = kb_copy / "entries" / "the-study.yaml"
    replace(path, "    phrasings:\n", f"    phrasings:\n      - {borrowed}\n")
    line = line_of(path, f"      - {borrowed}")
    problems = problems_for(kb_copy)
    assert any(
        p.startswith(f"the-study.yaml:{line}: '{borrowed}' (entry 'study-overview') is the same as")
        and "(entry 'risk-side-effects', " in p
        for p in problems
    ), problems


def test_near_duplicate_phrasing_is_flagged(kb_copy: Path):
    path = kb_copy / "entries" / "the-study.yaml"
    replace(
        path,
        "    phrasings:\n",
        # chat spelling of another entry's question (a typo alone is now folded away: the same)
        "    phrasings:\n      - what r the side effects from ketamine therapy\n",
    )
    line = line_of(path, "what r the side effects from ketamine therapy")
    problems = problems_for(kb_copy)
    assert any(
        p.startswith(f"the-study.yaml:{line}:") and "is nearly the same as" in p for p in problems
    ), problems


@pytest.mark.parametrize(
    "dose",
    [
        "0.5 mg/kg",
        "half a milligram per kilogram",
        "two milligrams",
        "point five mg/kg",
        "one and a half milligrams",
        "thirty-five mg",
        "a few milligrams",
        "milligrams per kilogram of body weight",
    ],
)
def test_a_dose_in_an_answer_is_refused_in_digits_or_in_words(kb_copy: Path, dose: str):
    path = kb_copy / "entries" / "risks.yaml"
    replace(path, "    answer: >-\n", f"    answer: >-\n      Most clinics give {dose}.\n")
    line = line_of(path, f"Most clinics give {dose}.") - 1  # the answer's first line
    assert problems_for(kb_copy) == [
        f"risks.yaml:{line}: entries.0.answer: the bot never states a dose; remove the amount"
    ]


@pytest.mark.parametrize(
    "text",
    ["Half of the participants improved.", "A single infusion was given.", "Two studies agree."],
)
def test_numbers_in_words_without_a_unit_are_not_doses(kb_copy: Path, text: str):
    path = kb_copy / "entries" / "risks.yaml"
    replace(path, "    answer: >-\n", f"    answer: >-\n      {text}\n")
    assert not any("dose" in problem for problem in problems_for(kb_copy))


def test_yes_no_words_need_quotes(kb_copy: Path):
    path = kb_copy / "synonyms.yaml"
    replace(path, '  - "on"', "  - on")
    line = line_of(path, "  - on")
    assert problems_for(kb_copy) == [
        f"synonyms.yaml:{line}: ignore_words.{_index_of_on(path)}:"
        " YAML reads yes/no/on/off/true/false as a yes-or-no; put the word in quotes"
    ]


def _index_of_on(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").split("ignore_words:\n", 1)[1].splitlines()
    return [line.strip() for line in lines].index("- on")


def test_missing_required_file(kb_copy: Path):
    (kb_copy / "safety.yaml").unlink()
    assert problems_for(kb_copy) == ["safety.yaml:1: required file is missing"]


def test_duplicate_key_would_lose_text(kb_copy: Path):
    path = kb_copy / "entries" / "risks.yaml"
    replace(
        path, "    reviewed: 2026-11-27\n", "    reviewed: 2026-11-27\n    reviewed: 2026-11-26\n"
    )
    line = line_of(path, "reviewed: 2026-11-26")
    assert f"risks.yaml:{line}: 'reviewed' appears twice here" in problems_for(kb_copy)


def test_stray_file_is_reported(kb_copy: Path):
    (kb_copy / "new-section.yaml").write_text("entries: []\n", encoding="utf-8")
    assert problems_for(kb_copy) == [
        "new-section.yaml:1: not a knowledge file; entry files go in entries/"
    ]


def test_missing_folder(tmp_path: Path):
    problems = validate_knowledge(tmp_path / "nowhere")
    assert [p.message for p in problems] == ["no such knowledge folder"]


@pytest.mark.parametrize(
    "name",
    ["not-covered.yaml", "safety.yaml", "sources.yaml", "synonyms.yaml", "replies.yaml"],
)
def test_a_file_with_everything_commented_out_is_named_not_a_crash(kb_copy: Path, name: str):
    """A moderator who comments out a whole file to try something gets one clear line."""
    path = kb_copy / name
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(f"# {line}\n" for line in lines), encoding="utf-8")
    assert f"{name}:1: the file is empty" in problems_for(kb_copy)


def test_a_broken_model_file_is_named_with_what_is_wrong(kb_copy: Path):
    """The fast reader (pydantic's JSON parser) never words a moderator's error for them."""
    path = kb_copy / "models" / "answers.json"
    content = json.loads(path.read_text(encoding="utf-8"))
    path.write_text('{"name": "answers",\n', encoding="utf-8")
    assert problems_for(kb_copy) == ["answers.json:2: not valid JSON (JSONDecodeError)"]
    content["threshold"] = "high"
    path.write_text(json.dumps(content), encoding="utf-8")
    assert problems_for(kb_copy) == [
        "answers.json:1: threshold: Input should be a valid number,"
        " unable to parse string as a number"
    ]
