"""``ketamine-bot config check`` and ``run``'s own settings check: exit 2, one line each.

In-process through ``bot.cli.main``; every variable the bot reads is cleared first (and
whatever a ``.env`` file exports is removed again afterwards), and the working folder is
a fresh one, so the machine's own settings never leak in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import ENV_FILE_VARIABLE, Settings
from tests.slack.slack_requests import BOT_TOKEN, SIGNING_SECRET

DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789_-"
DB_PASSWORD = "correct-horse-battery"
VARIABLES = [info.alias for info in Settings.model_fields.values() if info.alias]


@pytest.fixture()
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No bot variable set, in an empty working folder; ``.env`` exports undone afterwards."""
    for name in [*VARIABLES, ENV_FILE_VARIABLE, "STORAGE_SECRET_FILE"]:
        monkeypatch.setenv(name, "")  # remembered as unset: undone even if .env sets it later
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def check(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, list[str]]:
    code = main(["config", "check", *arguments])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out.splitlines()


def row(name: str, value: str) -> str:
    return f"  {name:<27}{value}"


def test_a_missing_token_is_named_and_exits_2(environment, capsys) -> None:
    environment.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)

    code, lines = check(capsys)

    assert code == 2
    assert row("SLACK_BOT_TOKEN", "not set (Slack off)") in lines
    assert lines[-2:] == [
        "1 problem(s):",
        "  slack: SLACK_BOT_TOKEN is not set: give the app's Bot User OAuth Token (xoxb-...)",
    ]


def test_malformed_tokens_are_named_masked_and_exit_2(environment, capsys) -> None:
    user_token = "xoxp-1234-5678-notabottoken"
    environment.setenv("SLACK_BOT_TOKEN", user_token)
    environment.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    environment.setenv("DISCORD_TOKEN", f"Bot {DISCORD_TOKEN}")
    environment.setenv("SHARD_COUNT", "two")

    code, lines = check(capsys)

    assert code == 2
    assert row("SLACK_BOT_TOKEN", "xoxp-******** (set, 27 characters, masked)") in lines
    assert row("DISCORD_TOKEN", "******** (set, 74 characters, masked)") in lines
    assert lines[-4:] == [
        "3 problem(s):",
        "  SHARD_COUNT is malformed: input should be a valid integer, unable to parse string "
        "as an integer",
        "  slack: SLACK_BOT_TOKEN is malformed: expected a bot token starting with xoxb-",
        "  discord: DISCORD_TOKEN starts with 'Bot ': give the token alone",
    ]
    output = "\n".join(lines)
    assert user_token not in output and DISCORD_TOKEN not in output


def test_a_sound_configuration_is_shown_masked_and_exits_0(environment, capsys) -> None:
    environment.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    environment.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    environment.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    environment.setenv("DATABASE_URL", f"postgresql://bot:{DB_PASSWORD}@db.internal:5432/ketamine")
    environment.setenv("STORAGE_SECRET", "a-shared-secret-for-every-replica")
    environment.setenv("SHARD_COUNT", "4")
    environment.setenv("SHARD_IDS", "2,3")
    environment.setenv("PORT", "8080")

    code, lines = check(capsys)

    assert code == 0
    assert row("SLACK_BOT_TOKEN", "xoxb-******** (set, 24 characters, masked)") in lines
    assert row("SLACK_SIGNING_SECRET", "******** (set, 32 characters, masked)") in lines
    assert row("DISCORD_TOKEN", "******** (set, 70 characters, masked)") in lines
    assert row("STORAGE_SECRET", "******** (set, 33 characters, masked)") in lines
    assert row("DATABASE_URL", "postgresql+psycopg://bot:***@db.internal:5432/ketamine") in lines
    assert row("SLACK_APP_TOKEN", "not set (HTTP mode)") in lines
    assert row("RETENTION_DAYS", "90 (default)") in lines
    assert "ketamine-bot run would start: slack (HTTP on port 8080), discord (shards 2,3 of 4)" in (
        lines
    )
    assert lines[-1] == "OK: no problems found"
    output = "\n".join(lines)
    for secret in (BOT_TOKEN, SIGNING_SECRET, DISCORD_TOKEN, DB_PASSWORD, "a-shared-secret"):
        assert secret not in output


def test_settings_come_from_a_dotenv_file_and_the_environment_wins(
    environment, capsys, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_SIGNING_SECRET={SIGNING_SECRET}\nPORT=4000\n"
        "DISCORD_TOKEN=\n"
    )
    environment.setenv("PORT", "5000")

    code, lines = check(capsys)

    assert code == 0
    assert lines[0] == "ketamine-bot configuration, from the environment and .env"
    assert row("PORT", "5000") in lines
    assert row("DISCORD_TOKEN", "not set (Discord off)") in lines
    assert "ketamine-bot run would start: slack (HTTP on port 5000)" in lines


def test_nothing_configured_is_a_problem_for_a_production_check(environment, capsys) -> None:
    code, lines = check(capsys)  # pytest's standard input is no terminal: as under systemd

    assert code == 2
    assert lines[-2:] == [
        "1 problem(s):",
        "  no platform is configured: set DISCORD_TOKEN, or SLACK_BOT_TOKEN with "
        "SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode); without a terminal "
        "ketamine-bot run exits 2",
    ]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("occupied/sub/bot.sqlite3", "occupied is not a folder"),
        ("/sys/ketamine-bot/bot.sqlite3", "/sys is not writable ("),  # even for root
        ("folder", "it is a folder"),
    ],
)
def test_a_storage_path_the_bot_cannot_write_is_a_problem(
    environment, capsys, tmp_path, path, reason
) -> None:
    """E.g. a relative STORAGE_PATH from a copied .env, under systemd's read-only /opt."""
    (tmp_path / "occupied").write_text("a file where a folder should be")
    (tmp_path / "folder").mkdir()
    environment.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    environment.setenv("STORAGE_PATH", path)

    code, lines = check(capsys)

    assert code == 2
    assert lines[-2] == "1 problem(s):"
    assert lines[-1].startswith(f"  STORAGE_PATH: cannot keep the database at {path}: {reason}")


def test_a_secret_file_the_bot_cannot_write_is_a_problem(environment, capsys, tmp_path) -> None:
    (tmp_path / "occupied").write_text("a file where a folder should be")
    environment.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    environment.setenv("STORAGE_SECRET_FILE", "occupied/bot.secret")

    code, lines = check(capsys)

    assert code == 2
    assert lines[-1] == (
        "  STORAGE_SECRET_FILE: cannot keep the hashing secret at occupied/bot.secret: "
        "occupied is not a folder"
    )


def test_a_named_env_file_that_does_not_exist_is_a_problem(environment, capsys) -> None:
    environment.setenv(ENV_FILE_VARIABLE, "/nonexistent/bot.env")
    environment.setenv("DISCORD_TOKEN", DISCORD_TOKEN)

    code, lines = check(capsys)

    assert code == 2
    assert lines[-2:] == ["1 problem(s):", "  ENV_FILE names a file that does not exist"]


def test_run_checks_every_setting_before_starting_anything(environment, capsys) -> None:
    environment.setenv("DISCORD_TOKEN", "not-a-token")
    environment.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    environment.setenv("LOG_FORMAT", "xml")

    assert main(["run"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "ketamine-bot run: LOG_FORMAT is malformed: input should be 'text' or 'json'",
    ]
    environment.setenv("LOG_FORMAT", "json")
    assert main(["run"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "ketamine-bot run slack: SLACK_SIGNING_SECRET is not set: give the app's Signing Secret "
        "(Basic Information > App Credentials), or use Socket Mode",
        "ketamine-bot run discord: DISCORD_TOKEN does not look like a bot token (three parts "
        "joined by dots); copy it again from the Bot page of the developer portal",
    ]


def test_the_metrics_port_cannot_be_the_slack_port(environment, capsys) -> None:
    environment.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    environment.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    environment.setenv("PORT", "8080")

    assert main(["run", "--metrics-port", "8080"]) == 2
    assert capsys.readouterr().err == (
        "ketamine-bot run: METRICS_PORT must differ from the Slack port (the public port serves "
        "/healthz only; /metrics and /readyz stay on the internal listener)\n"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://u:pw@host:notaport/db", "the port is not a number"),
        ("postgresql://u:pw@host:99999/db", "the port is out of range (1 to 65535)"),
    ],
)
def test_a_malformed_database_url_is_one_line_and_exit_2_everywhere(
    environment, capsys, url, reason
) -> None:
    environment.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    environment.setenv("DATABASE_URL", url)

    code, lines = check(capsys)
    assert code == 2
    assert lines[-2:] == ["1 problem(s):", f"  DATABASE_URL is malformed: {reason}"]
    assert row("DATABASE_URL", "set (not a database URL)") in lines

    assert main(["run", "discord"]) == 2
    assert capsys.readouterr() == ("", f"ketamine-bot run: DATABASE_URL is malformed: {reason}\n")

    assert main(["report"]) == 2
    assert capsys.readouterr() == (
        "",
        f"ketamine-bot report: DATABASE_URL is malformed: {reason}\n",
    )
