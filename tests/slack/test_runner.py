"""``ketamine-bot run slack``: settings checked up front, one clear line and exit 2 when wrong."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack.runner import SlackRuntime
from bot.adapters.slack.settings import DEFAULT_API_URL, SettingsError, SlackSettings, load_settings
from bot.cli import main
from bot.core.service import BotService
from bot.runner import Plan, serve
from bot.settings import Settings
from tests.slack.conftest import KNOWLEDGE_DIR, http_settings
from tests.slack.slack_requests import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET

HTTP_ENV = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL")


@pytest.fixture()
def clean_environment(monkeypatch, tmp_path):
    """No Slack variable from the caller's environment, and no .env file."""
    for name in (*SLACK_VARIABLES, "PORT", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORAGE_PATH", str(tmp_path / "bot.sqlite3"))
    return monkeypatch


def settings_of(environ: dict[str, str]) -> Settings:
    """The settings ``run`` reads, from ``environ`` alone."""
    unset = {name: None for name in (*SLACK_VARIABLES, "PORT")}
    return Settings(_env_file=None, **{**unset, **environ})


@pytest.mark.parametrize(
    ("environ", "options", "names"),
    [
        ({}, [], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "  "}, [], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, [], "SLACK_BOT_TOKEN is malformed"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, [], "SLACK_SIGNING_SECRET is not set"),
        ({**HTTP_ENV, "SLACK_SIGNING_SECRET": "not-hex"}, [], "SLACK_SIGNING_SECRET is malformed"),
        (HTTP_ENV, ["--socket-mode"], "SLACK_APP_TOKEN is not set"),
        ({**HTTP_ENV, "SLACK_APP_TOKEN": "xoxb-wrong-kind"}, [], "SLACK_APP_TOKEN is malformed"),
        ({**HTTP_ENV, "SLACK_API_URL": "slack.com/api"}, [], "SLACK_API_URL is malformed"),
        ({**HTTP_ENV, "SLACK_API_URL": "ftp://slack.com/api/"}, [], "SLACK_API_URL is malformed"),
        ({**HTTP_ENV, "PORT": "eighty"}, [], "PORT is malformed"),
        ({**HTTP_ENV, "PORT": "70000"}, [], "PORT is malformed"),
        (HTTP_ENV, ["--port", "70000"], "--port is out of range"),
    ],
)
def test_missing_or_malformed_settings_exit_2_with_one_line_naming_it(
    clean_environment, capsys, environ, options, names
):
    for name, value in environ.items():
        clean_environment.setenv(name, value)

    assert main(["run", "slack", "--knowledge", str(KNOWLEDGE_DIR), *options]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"ketamine-bot run slack: {names}")
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        if environ.get(name, "").strip():
            assert environ[name] not in err  # never print a token or secret


def test_cli_run_slack_reaches_the_runner(clean_environment, capsys):
    assert main(["run", "slack", "--knowledge", str(KNOWLEDGE_DIR)]) == 2
    assert capsys.readouterr().err == (
        "ketamine-bot run slack: SLACK_BOT_TOKEN is not set: give the app's Bot User OAuth Token "
        "(xoxb-...)\n"
    )


def test_settings_defaults_and_precedence():
    settings = load_settings(settings_of({**HTTP_ENV, "PORT": "8080"}))
    assert (settings.api_url, settings.port, settings.socket_mode) == (DEFAULT_API_URL, 8080, False)
    assert load_settings(settings_of({**HTTP_ENV, "PORT": "8080"}), port=9090).port == 9090
    assert load_settings(settings_of(HTTP_ENV)).port == 3000
    assert load_settings(
        settings_of({**HTTP_ENV, "SLACK_API_URL": "http://127.0.0.1:9/api"})
    ).api_url == ("http://127.0.0.1:9/api/")
    assert BOT_TOKEN not in repr(settings) and SIGNING_SECRET not in repr(settings)


def test_app_token_chooses_socket_mode_which_needs_no_signing_secret():
    environ = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    settings = load_settings(settings_of(environ))
    assert settings.socket_mode and settings.signing_secret is None
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is not set"):
        load_settings(settings_of({"SLACK_BOT_TOKEN": BOT_TOKEN}))


async def run_slack(service: BotService, slack: SlackSettings, tmp_path: Path) -> int:
    """``ketamine-bot run slack`` as the runner runs it, stopped as soon as it has started."""
    settings = Settings(_env_file=None, STORAGE_PATH=tmp_path / "bot.sqlite3", STORAGE_SECRET="s")
    stop = asyncio.Event()
    stop.set()
    return await serve(service, Plan(settings, ["slack"], slack=slack), stop=stop)


async def test_a_token_slack_refuses_exits_2_naming_it(fake_slack, slack_service, capsys, tmp_path):
    fake_slack.fail("auth.test", error="invalid_auth")
    assert await run_slack(slack_service, http_settings(fake_slack), tmp_path) == 2
    assert (
        capsys.readouterr().err
        == "ketamine-bot run slack: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)\n"
    )


async def test_a_refused_app_token_exits_2_naming_it(fake_slack, slack_service, capsys, tmp_path):
    fake_slack.fail("apps.connections.open", error="invalid_auth")
    settings = http_settings(fake_slack, app_token=APP_TOKEN, socket_mode=True)
    assert await run_slack(slack_service, settings, tmp_path) == 2
    assert (
        capsys.readouterr().err
        == "ketamine-bot run slack: SLACK_APP_TOKEN was refused by Slack (invalid_auth)\n"
    )


async def test_an_unreachable_web_api_exits_1_with_one_line(slack_service, capsys, tmp_path):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = http_settings_for(f"http://127.0.0.1:{port}/api/")
    assert await run_slack(slack_service, settings, tmp_path) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"ketamine-bot run slack: cannot reach the Slack Web API at http://127.0.0.1:{port}/api/"
    )
    assert err.count("\n") == 1


def http_settings_for(api_url: str) -> SlackSettings:
    return SlackSettings(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=api_url,
        port=0,
        host="127.0.0.1",
    )


async def test_serve_runs_until_stopped(fake_slack, slack_service, tmp_path):
    assert await run_slack(slack_service, http_settings(fake_slack), tmp_path) == 0
    assert [call.method for call in fake_slack.calls] == ["auth.test"]


async def test_health_endpoint_and_wrong_paths(fake_slack, slack_service):
    runtime = SlackRuntime(slack_service, http_settings(fake_slack))
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{runtime.port}/healthz") as response:
                assert (response.status, await response.json()) == (200, {"ok": True})
            async with session.post(f"http://127.0.0.1:{runtime.port}/elsewhere") as response:
                assert response.status == 404
    finally:
        await runtime.stop()
    assert [call.method for call in fake_slack.calls] == ["auth.test"]
