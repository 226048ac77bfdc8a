"""The deployment files, read the way Docker, Compose, systemd and a Procfile platform would.

No Docker engine runs on the test machines, so the image is not built here: these tests
parse the Dockerfile and compose file and check what a build and a ``compose up`` rely on
(the base, the non-root user, the entrypoint, the healthcheck, the knowledge base baked in
and mounted), and that every command line in them is one ``ketamine-bot`` accepts.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def dockerfile(path: Path = DEPLOY / "Dockerfile") -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order: comments dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        instruction, _, arguments = line.partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
    assert not pending, "a continued line runs off the end of the Dockerfile"
    return instructions


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) argument list, as Docker requires for signals to arrive."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value)
    return value


def bot_arguments(command: list[str]) -> list[str]:
    """The arguments after ``python -m bot``, checked to be exactly that invocation."""
    assert command[:3] == ["python", "-m", "bot"], command
    return command[3:]


def parse_cli(arguments: list[str]) -> object:
    """What ``ketamine-bot`` makes of ``arguments``: a usage error fails the test."""
    try:
        return build_parser().parse_args(arguments)
    except SystemExit as error:  # argparse exits on a usage error
        pytest.fail(f"ketamine-bot rejects {arguments}: exit {error.code}")


def test_the_image_is_slim_unprivileged_and_runs_the_bot() -> None:
    instructions = dockerfile()
    kinds = [kind for kind, _ in instructions]
    first = dict(instructions)

    assert re.fullmatch(r"python:3\.1[0-9]+-slim(-[a-z]+)?", first["FROM"])
    assert kinds.count("FROM") == 1
    # non-root, by number (Kubernetes' runAsNonRoot can check it), before the process starts
    [user] = [arguments for kind, arguments in instructions if kind == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")
    runs = " ".join(arguments for kind, arguments in instructions if kind == "RUN")
    assert re.search(rf"useradd .*--uid {uid}\b", runs)

    entrypoint = exec_form(first["ENTRYPOINT"])
    command = exec_form(first["CMD"])
    assert parse_cli(bot_arguments(entrypoint) + command).command == "run"
    assert first["WORKDIR"] == "/app"  # python -m bot imports /app/bot
    assert first["STOPSIGNAL"] == "SIGTERM"


def test_the_image_has_a_healthcheck_that_asks_the_bot() -> None:
    [healthcheck] = [arguments for kind, arguments in dockerfile() if kind == "HEALTHCHECK"]
    options, _, command = healthcheck.partition("CMD ")
    assert re.search(r"--interval=\d+s", options) and re.search(r"--timeout=\d+s", options)
    assert exec_form(command) == ["python", "-m", "bot.ops.probe", "/healthz"]
    environment = " ".join(arguments for kind, arguments in dockerfile() if kind == "ENV")
    assert "METRICS_PORT=9100" in environment  # the probe's port, served whatever runs
    assert "9100" in dict(dockerfile())["EXPOSE"].split()


def test_the_knowledge_base_is_baked_in_and_can_be_replaced() -> None:
    instructions = dockerfile()
    copies = [shlex.split(arguments) for kind, arguments in instructions if kind == "COPY"]
    assert ["knowledge", "./knowledge"] in copies
    assert ["bot", "./bot"] in copies
    for *sources, _ in copies:  # every file the build copies is in the repository
        for source in sources:
            assert (ROOT / source).exists(), source
    # the build context holds only what is copied: never .env or the database
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][:4] == ["*", "!pyproject.toml", "!bot/", "!knowledge/"]
    environment = " ".join(arguments for kind, arguments in instructions if kind == "ENV")
    assert "KNOWLEDGE_DIR=/app/knowledge" in environment
    assert "STORAGE_PATH=/data/" in environment
    assert '"/data"' in dict(instructions)["VOLUME"]


def test_compose_mounts_the_knowledge_base_and_keeps_the_image_healthcheck() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    bot = compose["services"]["bot"]

    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    ).resolve()
    assert parse_cli(bot_arguments(["python", "-m", "bot", *bot["command"]])).command == "run"
    knowledge = bot["environment"]["KNOWLEDGE_DIR"]
    mounts = [volume.split(":") for volume in bot["volumes"]]
    [mount] = [parts for parts in mounts if parts[1] == knowledge]
    assert (DEPLOY / mount[0]).resolve() == (ROOT / "knowledge").resolve()
    assert any(parts[1] == "/data" for parts in mounts)  # the database outlives the container
    assert bot["healthcheck"]["test"] == ["CMD", "python", "-m", "bot.ops.probe", "/healthz"]
    assert bot["stop_grace_period"] == "30s"
    assert bot["restart"] == "unless-stopped"
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"]  # PostgreSQL only when asked for
    assert bot["depends_on"]["postgres"]["required"] is False


def systemd_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections of a unit file; a key may repeat (``Environment=``), so values are lists."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"{line!r} is outside any section"
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_the_systemd_unit_runs_the_bot_unprivileged_and_restarts_it() -> None:
    unit = systemd_unit(DEPLOY / "ketamine-bot.service")
    service = unit["Service"]

    [start] = service["ExecStart"]
    python, *arguments = shlex.split(start)
    assert python.endswith("/.venv/bin/python")
    assert parse_cli(bot_arguments(["python", *arguments])).command == "run"
    assert service["User"] == ["ketamine-bot"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == ["2"]  # a setting to fix: no restart loop
    assert service["EnvironmentFile"] == ["-/etc/ketamine-bot/env"]
    assert "KNOWLEDGE_DIR=/opt/ketamine-bot/knowledge" in service["Environment"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_procfile_runs_slack_on_port_and_discord_as_a_worker() -> None:
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert sorted(processes) == ["web", "worker"]
    web = shlex.split(processes["web"])
    worker = shlex.split(processes["worker"])
    assert web[-2:] == ["--port", "$PORT"]  # the shell expands it, as Procfile platforms run it
    web_args = parse_cli(bot_arguments([*web[:-1], "8000"]))
    worker_args = parse_cli(bot_arguments(worker))
    assert (web_args.command, web_args.platform, web_args.port) == ("run", "slack", 8000)
    assert (worker_args.command, worker_args.platform) == ("run", "discord")
    # the platform installs the bot from requirements.txt: the project itself
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    assert [line for line in requirements if line and not line.startswith("#")] == ["."]


def test_the_example_settings_name_only_variables_the_bot_reads() -> None:
    from bot.settings import Settings

    known = {info.alias for info in Settings.model_fields.values()}
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert names and set(names) <= known
    assert {"DISCORD_TOKEN", "SLACK_BOT_TOKEN", "DATABASE_URL", "STORAGE_SECRET"} <= set(names)


def example_settings() -> dict[str, str]:
    """What a copy of ``env.example`` sets: every uncommented ``NAME=value`` line."""
    lines = (DEPLOY / "env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {name: value for name, value in pairs}


def test_a_copy_of_the_example_settings_never_overrides_the_deployments_paths_and_ports() -> None:
    """A ``.env`` (compose ``env_file``, ``docker --env-file``) or ``/etc/ketamine-bot/env``
    (systemd ``EnvironmentFile=``, which wins over ``Environment=``) overrides what the image,
    compose file and unit set; even an empty ``NAME=`` line replaces the value with nothing."""
    image = " ".join(arguments for kind, arguments in dockerfile() if kind == "ENV")
    image_names = set(re.findall(r"([A-Z_]+)=", image))
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["bot"]
    unit = systemd_unit(DEPLOY / "ketamine-bot.service")["Service"]
    unit_names = {assignment.split("=", 1)[0] for assignment in unit["Environment"]}
    deployed = (image_names | set(compose["environment"]) | unit_names) - {"PYTHONUNBUFFERED"}

    assert {"STORAGE_PATH", "KNOWLEDGE_DIR", "METRICS_PORT", "LOG_FORMAT"} <= deployed
    assert sorted(deployed & set(example_settings())) == []


def test_the_deployments_agree_on_where_the_data_lives() -> None:
    image = dict(
        pair.split("=", 1)
        for kind, arguments in dockerfile()
        if kind == "ENV"
        for pair in shlex.split(arguments)
    )
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["bot"]
    unit = systemd_unit(DEPLOY / "ketamine-bot.service")["Service"]
    unit_environment = dict(assignment.split("=", 1) for assignment in unit["Environment"])

    assert image["STORAGE_PATH"] == compose["environment"]["STORAGE_PATH"]
    assert image["STORAGE_PATH"].startswith("/data/")  # the image's VOLUME
    assert unit_environment["STORAGE_PATH"].startswith("/var/lib/ketamine-bot/")  # StateDirectory
    assert unit["StateDirectory"] == ["ketamine-bot"]
    # the compose file publishes the internal listener to this host only
    assert compose["environment"]["METRICS_HOST"] == "0.0.0.0"
    assert f"127.0.0.1:{image['METRICS_PORT']}:{image['METRICS_PORT']}" in compose["ports"]
