"""``ketamine-bot config check``: what is set (secrets masked), what is missing, what is wrong.

It runs the very checks ``ketamine-bot run`` runs (the adapters' loaders, the moderator
settings, the database URL), so a clean check means ``run`` will not stop on a setting.
It contacts nothing: a token Slack or Discord refuses only shows when ``run`` signs in.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from bot.exitcodes import EXIT_CONFIG, EXIT_OK
from bot.settings import (
    MODERATOR_VARIABLES,
    SHARD_VARIABLES,
    Settings,
    SettingsProblem,
    export_env_file,
    load_settings_leniently,
)
from bot.storage.writable import storage_problems

WIDTH = 27  # column of the values

SECTIONS: list[tuple[str, list[str]]] = [
    ("Knowledge", ["KNOWLEDGE_DIR"]),
    ("Discord", ["DISCORD_TOKEN", "DISCORD_GUILD_ID", "DISCORD_SHARDED", *SHARD_VARIABLES]),
    (
        "Slack",
        ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "PORT"],
    ),
    ("Health and metrics", ["HOST", "METRICS_HOST", "METRICS_PORT"]),
    (
        "Storage",
        [
            "DATABASE_URL",
            "STORAGE_PATH",
            "STORAGE_SECRET",
            "STORAGE_SECRET_FILE",
            "RETENTION_DAYS",
        ],
    ),
    # the settings' own list: both platforms' first (MOD_...), then one platform's
    ("Moderators", sorted(MODERATOR_VARIABLES, key=lambda name: (name[:4] != "MOD_", name))),
    ("Operations", ["LOG_FORMAT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"]),
]

# what an unset variable means, shown after "not set"
UNSET_MEANS = {
    "KNOWLEDGE_DIR": "the shipped knowledge/",
    "DISCORD_TOKEN": "Discord off",
    "DISCORD_GUILD_ID": "slash commands registered globally",
    "SHARD_COUNT": "every shard in this process",
    "SLACK_BOT_TOKEN": "Slack off",
    "SLACK_APP_TOKEN": "HTTP mode",
    "SLACK_API_URL": "https://slack.com/api/",
    "PORT": "3000",
    "METRICS_PORT": "no internal listener: /metrics and /readyz off",
    "DATABASE_URL": "SQLite at STORAGE_PATH",
    "STORAGE_PATH": "data/ketamine-bot.sqlite3",
    "STORAGE_SECRET": "generated once, kept in STORAGE_SECRET_FILE",
    "STORAGE_SECRET_FILE": "beside the SQLite database",
    "MOD_ALERT_CHANNEL": "crisis alerts off",
}
SECRETS = frozenset(
    {
        "DISCORD_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "STORAGE_SECRET",
    }
)
# Slack token kinds: the prefix says which token it is, and is not itself secret
_PUBLIC_PREFIXES = ("xoxb-", "xapp-", "xoxp-")


def check_config(
    knowledge: Path | None = None,
    platform: str | None = None,
    *,
    socket_mode: bool = False,
    out: TextIO | None = None,
) -> int:
    """Print the report; exit 0 when ``run`` would start, 2 when something must be fixed."""
    out = out or sys.stdout
    problems: list[str] = []
    notes: list[str] = []
    try:
        env_file = export_env_file()
    except SettingsProblem as problem:
        env_file = None
        problems.extend(problem.lines)
    settings, found = load_settings_leniently()
    problems.extend(found)

    source = f"the environment and {env_file}" if env_file else "the environment (no .env file)"
    print(f"ketamine-bot configuration, from {source}", file=out)
    for title, names in SECTIONS:
        print(f"\n{title}", file=out)
        for name in names:
            print(f"  {name:<{WIDTH}}{_shown(name)}", file=out)

    problems.extend(_knowledge_problems(knowledge, settings, notes))
    platforms = _platform_problems(settings, platform, socket_mode, problems, notes)
    problems.extend(storage_problems(settings))
    if settings.database_url is not None and settings.storage_secret is None:
        notes.append(
            "DATABASE_URL without STORAGE_SECRET: every replica sharing the database must "
            "have the same STORAGE_SECRET, or a member's votes count once per replica"
        )

    print(file=out)
    if platforms:
        print(f"ketamine-bot run would start: {', '.join(platforms)}", file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    if not problems:
        print("OK: no problems found", file=out)
        return EXIT_OK
    print(f"{len(problems)} problem(s):", file=out)
    for problem in problems:
        print(f"  {problem}", file=out)
    return EXIT_CONFIG


def _shown(name: str) -> str:
    """The value as it may be shown: secrets masked, URLs without passwords."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        field = next(info for info in Settings.model_fields.values() if info.alias == name)
        if field.default is not None:
            return f"{field.default} (default)"
        meaning = UNSET_MEANS.get(name)
        return f"not set ({meaning})" if meaning else "not set"
    if name == "DATABASE_URL":
        return _shown_url(raw)
    if name in SECRETS:
        prefix = next((p for p in _PUBLIC_PREFIXES if raw.startswith(p)), "")
        return f"{prefix}{'*' * 8} (set, {len(raw)} characters, masked)"
    return raw


def _shown_url(raw: str) -> str:
    from bot.storage import StorageError
    from bot.storage.config import database_url, shown_url

    try:
        return shown_url(database_url(raw))
    except StorageError:
        return "set (not a database URL)"


def _knowledge_problems(knowledge: Path | None, settings: Settings, notes: list[str]) -> list[str]:
    """Load the knowledge base ``run`` would serve; its problems, if any."""
    from bot.knowledge import KnowledgeError, default_knowledge_dir, load_knowledge

    directory = knowledge or settings.knowledge_dir or default_knowledge_dir()
    try:
        loaded = load_knowledge(directory)
    except KnowledgeError as error:
        shown = [f"  {problem}" for problem in error.problems[:5]]
        more = len(error.problems) - len(shown)
        return [
            f"KNOWLEDGE_DIR: the knowledge base in {directory} has {len(error.problems)} "
            "problem(s) (ketamine-bot validate lists them)",
            *shown,
            *([f"  … and {more} more"] if more > 0 else []),
        ]
    notes.append(
        f"knowledge base {directory}: {len(loaded.entries)} entries, version {loaded.version}"
    )
    return []


def _platform_problems(
    settings: Settings,
    platform: str | None,
    socket_mode: bool,
    problems: list[str],
    notes: list[str],
) -> list[str]:
    """Run ``run``'s own checks; the platforms it would start, described."""
    from bot.runner import Plan, plan_run, shared_problems

    try:
        plan = plan_run(settings, platform, socket_mode=socket_mode)
    except SettingsProblem as problem:
        problems.extend(_unprefixed(line) for line in problem.lines)
        return []
    if not plan.platforms:
        unset = (
            "no platform is configured: set DISCORD_TOKEN, or SLACK_BOT_TOKEN with "
            "SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)"
        )
        if _interactive():  # a person at a terminal: `run` starts the console for them
            notes.append(f"{unset}; ketamine-bot run starts the console at a terminal")
        else:
            problems.append(f"{unset}; without a terminal ketamine-bot run exits 2")
        problems.extend(_unprefixed(line) for line in shared_problems(Plan(settings, [])))
        return []
    described = []
    if plan.slack is not None:
        mode = "Socket Mode" if plan.slack.socket_mode else f"HTTP on port {plan.slack.port}"
        described.append(f"slack ({mode})")
    if plan.discord is not None:
        shards = settings.shards()
        described.append(
            f"discord (shards {','.join(map(str, shards))} of {settings.shard_count})"
            if shards is not None
            else "discord"
        )
    if plan.metrics_port is not None:
        notes.append(
            f"internal listener on {settings.metrics_host}:{plan.metrics_port}: "
            "/healthz, /readyz, /metrics"
        )
    else:
        notes.append("no METRICS_PORT: /readyz and /metrics are not served")
    return described


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _unprefixed(line: str) -> str:
    """``ketamine-bot run slack: X`` as ``slack: X``; ``ketamine-bot run: X`` as ``X``."""
    return line.removeprefix("ketamine-bot run: ").removeprefix("ketamine-bot run ")
