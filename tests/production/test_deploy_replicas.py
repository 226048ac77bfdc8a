"""The replicas compose file, read as Compose and Caddy would (no Docker on the test machines).

Replicas are only correct when they share PostgreSQL and one hashing secret, take Slack
over HTTP only (a Discord token would open one gateway session per replica), and sit
behind one address that reaches every one of them.
"""

from __future__ import annotations

import re

import yaml

from tests.production.test_deploy import DEPLOY, bot_arguments, parse_cli

COMPOSE = DEPLOY / "compose.replicas.yaml"
CADDYFILE = DEPLOY / "Caddyfile.replicas"


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_two_slack_replicas_share_postgres_and_one_secret() -> None:
    bot = services()["bot"]
    assert bot["deploy"]["replicas"] == 2
    arguments = parse_cli(bot_arguments(["python", "-m", "bot", *bot["command"]]))
    assert (arguments.command, arguments.platform) == ("run", "slack")
    environment = bot["environment"]
    assert re.fullmatch(
        r"postgresql://ketamine:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432/ketamine",
        environment["DATABASE_URL"],
    )
    assert environment["STORAGE_SECRET"].startswith("${STORAGE_SECRET:?")  # required
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ports" not in bot  # reached through the balancer only
    assert bot["healthcheck"]["test"] == ["CMD", "python", "-m", "bot.ops.probe", "/healthz"]
    assert bot["stop_grace_period"] == "30s"


def test_postgres_is_the_one_the_replicas_name() -> None:
    postgres = services()["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == "ketamine"
    assert postgres["environment"]["POSTGRES_DB"] == "ketamine"
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert "profiles" not in postgres  # replicas cannot run without it


def test_discord_is_one_process_and_only_when_asked() -> None:
    discord = services()["discord"]
    assert discord["profiles"] == ["discord"]
    assert "deploy" not in discord
    arguments = parse_cli(bot_arguments(["python", "-m", "bot", *discord["command"]]))
    assert (arguments.command, arguments.platform) == ("run", "discord")
    assert discord["environment"] == services()["bot"]["environment"]


def test_the_balancer_spreads_slack_events_over_every_replica() -> None:
    balancer = services()["balancer"]
    mounts = dict(volume.split(":")[:2] for volume in balancer["volumes"])
    assert (DEPLOY / "Caddyfile.replicas").resolve() == (
        DEPLOY
        / next(source for source, target in mounts.items() if target == "/etc/caddy/Caddyfile")
    ).resolve()
    assert {"80:80", "443:443"} <= set(balancer["ports"])
    caddyfile = CADDYFILE.read_text()
    assert "handle /slack/events" in caddyfile
    dynamic = re.search(r"dynamic a \{(.*?)\}", caddyfile, re.S)
    assert dynamic is not None
    settings = dict(line.split(None, 1) for line in dynamic.group(1).strip().splitlines())
    assert settings["name"].strip() == "bot"  # the compose service: every replica's address
    assert settings["port"].strip() == "3000"  # the image's PORT
    assert "3000" in services()["bot"]["expose"]
