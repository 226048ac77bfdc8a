"""Settings of the running bot: the environment, plus an optional ``.env`` file.

One model names every variable the bot reads, so ``ketamine-bot config check`` can show
them all and ``ketamine-bot run`` fails early, one line per problem. Secrets are
``SecretStr``: their ``repr`` and ``str`` are masked, and the log formatters blank their
values out of every line (see ``bot.ops.logs``).

The platform variables (tokens, ports, the Slack API URL) are checked by the adapters'
own loaders, the same code ``run`` uses, so "config check is happy" means "run will
start". This model checks everything else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_FILE_VARIABLE = "ENV_FILE"
DEFAULT_ENV_FILE = ".env"
DEFAULT_HOST = "0.0.0.0"  # all interfaces: in a container or behind a proxy that is the point
DEFAULT_METRICS_HOST = "127.0.0.1"  # the internal listener: metrics are not for strangers
DEFAULT_RETENTION_DAYS = 90
DEFAULT_SHUTDOWN_SECONDS = 10.0  # docker stop waits 10 s before SIGKILL; Heroku waits 30 s
PURGE_INTERVAL_SECONDS = 24 * 60 * 60  # old records are deleted at start and then daily
SEEN_EVENT_SECONDS = 60 * 60  # Slack redelivers within about 5 minutes; replicas keep an hour
SHARED_EXPIRY_SECONDS = 5 * 60  # how often one replica deletes shared rows past their window
SHARD_VARIABLES = ("SHARD_COUNT", "SHARD_IDS")
MODERATOR_VARIABLES = frozenset(
    {
        "MOD_ROLE_IDS",
        "MOD_USER_IDS",
        "MOD_USERGROUP_ID",
        "MOD_ALERT_CHANNEL",
        "DISCORD_MOD_ALERT_CHANNEL",
        "SLACK_MOD_ALERT_CHANNEL",
    }
)

LogFormat = Literal["text", "json"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class SettingsProblem(ValueError):
    """Settings that cannot be used; ``lines`` are the problems, one per variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    """Every variable the bot reads (names are the environment variables, any case)."""

    model_config = SettingsConfigDict(
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # a bare "NAME=" line in .env means unset, as the adapters read it
        extra="ignore",
        frozen=True,
    )

    knowledge_dir: Path | None = Field(None, alias="KNOWLEDGE_DIR")

    # Discord (format checked by bot.adapters.discord.config)
    discord_token: SecretStr | None = Field(None, alias="DISCORD_TOKEN")
    discord_guild_id: str | None = Field(None, alias="DISCORD_GUILD_ID")
    discord_sharded: str | None = Field(None, alias="DISCORD_SHARDED")
    shard_count: int | None = Field(None, alias="SHARD_COUNT", ge=1, le=100_000)
    shard_ids: str | None = Field(None, alias="SHARD_IDS")

    # Slack (format checked by bot.adapters.slack.settings)
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    port: str | None = Field(None, alias="PORT")

    # the public port (Slack HTTP) and the internal listener (/metrics, /readyz, /healthz)
    host: str = Field(DEFAULT_HOST, alias="HOST", min_length=1)
    metrics_host: str = Field(DEFAULT_METRICS_HOST, alias="METRICS_HOST", min_length=1)
    metrics_port: int | None = Field(None, alias="METRICS_PORT", ge=0, le=65535)

    # storage
    database_url: SecretStr | None = Field(None, alias="DATABASE_URL")
    storage_path: Path | None = Field(None, alias="STORAGE_PATH")
    storage_secret: SecretStr | None = Field(None, alias="STORAGE_SECRET")
    storage_secret_file: Path | None = Field(None, alias="STORAGE_SECRET_FILE")
    retention_days: int = Field(DEFAULT_RETENTION_DAYS, alias="RETENTION_DAYS", ge=1, le=3650)

    # moderators (read by the moderator features; shown here so config check lists them)
    mod_role_ids: str | None = Field(None, alias="MOD_ROLE_IDS")
    mod_user_ids: str | None = Field(None, alias="MOD_USER_IDS")
    mod_usergroup_id: str | None = Field(None, alias="MOD_USERGROUP_ID")
    mod_alert_channel: str | None = Field(None, alias="MOD_ALERT_CHANNEL")
    discord_mod_alert_channel: str | None = Field(None, alias="DISCORD_MOD_ALERT_CHANNEL")
    slack_mod_alert_channel: str | None = Field(None, alias="SLACK_MOD_ALERT_CHANNEL")

    # operations
    log_format: LogFormat = Field("text", alias="LOG_FORMAT")
    log_level: LogLevel = Field("INFO", alias="LOG_LEVEL")
    shutdown_timeout: float = Field(
        DEFAULT_SHUTDOWN_SECONDS, alias="SHUTDOWN_TIMEOUT", gt=0, le=600
    )

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids is not None and self.shard_count is None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (the total number of shards)")
        self.shards()  # raises on a malformed or out-of-range SHARD_IDS
        return self

    # -- what the runner asks ------------------------------------------------------------

    def shards(self) -> tuple[int, ...] | None:
        """The Discord shard ids this process runs (``None``: let discord.py decide)."""
        if self.shard_count is None:
            return None
        if self.shard_ids is None:
            return tuple(range(self.shard_count))
        ids: list[int] = []
        for part in self.shard_ids.split(","):
            text = part.strip()
            if not text.isdigit() or int(text) >= self.shard_count:
                raise ValueError(
                    f"SHARD_IDS must list shard numbers from 0 to {self.shard_count - 1}, "
                    "comma-separated (e.g. 0,1)"
                )
            ids.append(int(text))
        if len(set(ids)) != len(ids):
            raise ValueError("SHARD_IDS lists a shard twice")
        return tuple(ids)

    def platforms(self) -> list[str]:
        """The platforms whose settings are present, in start order."""
        found = []
        if self.slack_bot_token or self.slack_signing_secret or self.slack_app_token:
            found.append("slack")
        if self.discord_token:
            found.append("discord")
        return found

    def moderator_values(self) -> dict[str, str]:
        """The ``MOD_*`` settings that are set, by variable name, for ``ModeratorSettings``."""
        return {
            info.alias: value
            for name, info in type(self).model_fields.items()
            if info.alias in MODERATOR_VARIABLES and (value := getattr(self, name)) is not None
        }

    def secrets(self) -> list[str]:
        """Every secret value set, for the log formatters to blank out."""
        values = [
            self.discord_token,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.storage_secret,
        ]
        found = [value.get_secret_value() for value in values if value is not None]
        if self.database_url is not None:
            found.extend(_url_password(self.database_url.get_secret_value()))
        return [secret for secret in found if len(secret) >= 4]


def env_file_path(environ: MutableMapping[str, str] | None = None) -> Path:
    """The ``.env`` file to read: ``ENV_FILE`` when set, else ``.env`` in the working folder."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENV_FILE_VARIABLE) or DEFAULT_ENV_FILE)


def export_env_file(environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Copy the ``.env`` file's values into the environment, where they are not set already.

    The environment wins over the file (as in Docker, Heroku and systemd), and exporting
    means every part of the bot (the adapters' own loaders, storage, moderator features)
    reads one set of values. Returns the file read, or ``None`` when there is none.
    """
    environ = os.environ if environ is None else environ
    path = env_file_path(environ)
    if not path.is_file():
        if environ.get(ENV_FILE_VARIABLE):
            raise SettingsProblem([f"{ENV_FILE_VARIABLE} names a file that does not exist"])
        return None
    for name, value in dotenv_values(path).items():
        if value is not None and name not in environ:
            environ[name] = value
    return path


def load_settings() -> Settings:
    """Read the settings (after ``export_env_file``); ``SettingsProblem`` lists what is wrong."""
    try:
        return Settings(_env_file=None)  # type: ignore[call-arg] - the file is exported already
    except ValidationError as error:
        raise SettingsProblem(list(describe(error))) from None


def load_settings_leniently() -> tuple[Settings, list[str]]:
    """The settings with each malformed variable at its default, and the problems found.

    For ``config check``, which shows everything it can even when something is wrong.
    """
    defaults = {info.alias: info.default for info in Settings.model_fields.values()}
    overrides: dict[str, object] = {}
    problems: list[str] = []
    for _ in range(len(defaults) + 1):  # each pass drops at least one malformed variable
        try:
            return Settings(_env_file=None, **overrides), problems  # type: ignore[call-arg]
        except ValidationError as error:
            problems.extend(describe(error))
            for problem in error.errors(include_input=False):
                names = [str(problem["loc"][0])] if problem["loc"] else list(SHARD_VARIABLES)
                overrides.update({name: defaults.get(name) for name in names})
    raise AssertionError("unreachable: every variable is at its default by now")


def describe(error: ValidationError) -> Iterable[str]:
    """One line per problem, naming the variable and never echoing its value."""
    for problem in error.errors(include_input=False, include_url=False):
        message = str(problem["msg"]).removeprefix("Value error, ")
        location = problem["loc"]
        if location:
            yield f"{location[0]} is malformed: {_lower_first(message)}"
        else:
            yield message


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _url_password(url: str) -> list[str]:
    """The password inside a database URL, if any (it must never reach a log)."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []
