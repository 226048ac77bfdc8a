"""Settings and logs: shards, secrets never shown, one line per event."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.core.service import Asked, BotService
from bot.ops.logs import JsonFormatter, TextFormatter, configure_logging, log_answer
from bot.settings import Settings, SettingsProblem, export_env_file, load_settings_leniently

SECRET = "xoxb-1111-2222-verysecret"


def make(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


def test_shards_are_parsed_and_checked() -> None:
    assert make(SHARD_COUNT="4", SHARD_IDS=" 0, 2").shards() == (0, 2)
    assert make(SHARD_COUNT="2").shards() == (0, 1)
    assert make().shards() is None


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT (the total number of shards)"),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "2"},
            "SHARD_IDS must list shard numbers from 0 to 1, comma-separated (e.g. 0,1)",
        ),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS lists a shard twice"),
        (
            {"SHARD_COUNT": "0"},
            "SHARD_COUNT is malformed: input should be greater than or equal to 1",
        ),
        (
            {"RETENTION_DAYS": "0"},
            "RETENTION_DAYS is malformed: input should be greater than or equal to 1",
        ),
    ],
)
def test_each_problem_is_one_line_naming_the_variable(monkeypatch, values, problem) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    _, problems = load_settings_leniently()
    assert problems == [problem]


def test_a_malformed_value_is_never_echoed(monkeypatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", SECRET)
    _, problems = load_settings_leniently()
    assert problems == [
        "LOG_LEVEL is malformed: input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"
    ]


def test_secrets_are_masked_and_listed_for_the_log_filter() -> None:
    settings = make(
        SLACK_BOT_TOKEN=SECRET,
        DATABASE_URL="postgresql://bot:p%40ss-word@db/ketamine",
        LOG_FORMAT="JSON",
        LOG_LEVEL="debug",
    )
    assert SECRET not in repr(settings) and "p%40ss" not in str(settings.database_url)
    assert sorted(settings.secrets()) == sorted([SECRET, "p%40ss-word", "p@ss-word"])
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")


def test_dotenv_values_fill_the_environment_without_overriding_it(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text("PORT=4000\nLOG_FORMAT=json\n# comment\nEMPTY=\n")
    environ = {"ENV_FILE": str(env_file), "PORT": "5000"}

    assert export_env_file(environ) == env_file
    assert environ == {"ENV_FILE": str(env_file), "PORT": "5000", "LOG_FORMAT": "json", "EMPTY": ""}
    with pytest.raises(SettingsProblem, match="ENV_FILE names a file that does not exist"):
        export_env_file({"ENV_FILE": str(tmp_path / "missing.env")})


def test_text_lines_are_single_lines_with_fields_and_no_secret() -> None:
    formatter = TextFormatter([SECRET])
    entry = logging.LogRecord(
        "bot.x", logging.ERROR, __file__, 1, "token %s\nrejected", (SECRET,), None
    )
    entry.fields = {"platform": "slack", "note": "two words"}  # type: ignore[attr-defined]
    try:
        raise ValueError("boom")
    except ValueError as error:
        entry.exc_info = (type(error), error, error.__traceback__)
    line = formatter.format(entry)
    assert "\n" not in line
    assert SECRET not in line
    assert ' ERROR bot.x: token ***\\nrejected platform=slack note="two words" | Traceback' in line
    assert line.endswith("ValueError: boom")


def test_json_lines_parse_and_carry_the_fields() -> None:
    formatter = JsonFormatter([SECRET])
    entry = logging.LogRecord("bot.x", logging.WARNING, __file__, 1, "sent %s", (SECRET,), None)
    entry.fields = {"in_flight": 3}  # type: ignore[attr-defined]
    line = formatter.format(entry)
    document = json.loads(line)
    assert (document["level"], document["logger"], document["message"], document["in_flight"]) == (
        "WARNING",
        "bot.x",
        "sent ***",
        3,
    )
    assert document["time"].endswith("Z")


def answered(service: BotService, message: str) -> Asked:
    events: list[Asked] = []
    service.listeners.append(events.append)
    service.ask(message, platform="discord", member="discord:1")
    return events[-1]


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_an_answer_is_one_line_with_kind_entry_and_latency(service: BotService, level) -> None:
    stream = io.StringIO()
    handler = configure_logging(log_format="json", level=level, stream=stream)
    try:
        question = next(iter(service.knowledge.entries.values())).question
        log_answer(answered(service, question))
        log_answer(answered(service, "I want to end my life tonight"))
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    answer, crisis = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (answer["message"], answer["kind"], answer["platform"]) == (
        "answered",
        "answer",
        "discord",
    )
    assert answer["entry_id"] in service.knowledge.entries and answer["latency_ms"] >= 0
    assert (crisis["kind"], crisis["entry_id"]) == ("crisis", None)
    # what a member wrote: only at DEBUG, and never for a crisis
    assert ("question" in answer) is (level == "DEBUG")
    assert "question" not in crisis
    assert "end my life" not in stream.getvalue()


def test_the_runner_takes_the_moderators_from_the_settings_it_read(monkeypatch) -> None:
    """Read once (environment and .env, through Settings), then passed down."""
    from bot.runner import plan_run
    from tests.slack.slack_requests import BOT_TOKEN, SIGNING_SECRET

    monkeypatch.delenv("MOD_USER_IDS", raising=False)
    settings = make(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MOD_USER_IDS="U0AAAA1, U0BBBB2",
        SLACK_MOD_ALERT_CHANNEL="C0MODS1",
    )
    plan = plan_run(settings, "slack", environ={})

    assert plan.moderators is not None
    assert plan.moderators.slack_user_ids == frozenset({"U0AAAA1", "U0BBBB2"})
    assert plan.moderators.slack_alert_channel == "C0MODS1"
