"""Settings problems end ``run discord`` with exit 2 and one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.discord.config import DiscordSettings, SettingsError
from bot.adapters.discord.runner import bot_intents
from bot.core.service import BotService
from bot.runner import run
from bot.settings import Settings

READ_VARIABLES = (
    "DISCORD_TOKEN",
    "DISCORD_GUILD_ID",
    "DISCORD_SHARDED",
    "SHARD_COUNT",
    "SHARD_IDS",
)

GOOD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789_-"


def test_settings_are_read_from_the_environment() -> None:
    settings = DiscordSettings.from_environment(
        {
            "DISCORD_TOKEN": f"  {GOOD_TOKEN}\n",
            "DISCORD_GUILD_ID": "123456789012345678",
            "DISCORD_SHARDED": "1",
        }
    )

    assert settings == DiscordSettings(GOOD_TOKEN, guild_id=123456789012345678, sharded=True)
    assert GOOD_TOKEN not in repr(settings)


def test_guild_and_sharding_are_optional() -> None:
    settings = DiscordSettings.from_environment({"DISCORD_TOKEN": GOOD_TOKEN})

    assert (settings.guild_id, settings.sharded) == (None, False)


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "   "}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": f"Bot {GOOD_TOKEN}"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "not-a-token-secret-0123456789abcdef"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "abc.def.ghi jkl"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": GOOD_TOKEN, "DISCORD_GUILD_ID": "my-server"}, "DISCORD_GUILD_ID"),
        ({"DISCORD_TOKEN": GOOD_TOKEN, "DISCORD_GUILD_ID": GOOD_TOKEN}, "DISCORD_GUILD_ID"),
        ({"DISCORD_TOKEN": GOOD_TOKEN, "DISCORD_SHARDED": "maybe"}, "DISCORD_SHARDED"),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_it(
    environment: dict[str, str],
    variable: str,
    service: BotService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    for name in READ_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    code = run(service, Settings(_env_file=None), "discord")

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("ketamine-bot run discord: ")
    assert variable in err
    for value in environment.values():
        if value.strip():
            assert value.strip() not in err  # never echo a value: it may be a token


def test_shards_are_read_from_the_environment() -> None:
    settings = DiscordSettings.from_environment(
        {"DISCORD_TOKEN": GOOD_TOKEN, "SHARD_COUNT": "4", "SHARD_IDS": " 2, 3 "}
    )

    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))
    every = DiscordSettings.from_environment({"DISCORD_TOKEN": GOOD_TOKEN, "SHARD_COUNT": "4"})
    assert (every.shard_count, every.shard_ids) == (4, None)  # all four in this process


@pytest.mark.parametrize(
    ("shards", "variable"),
    [
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "-1"}, "SHARD_COUNT"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS"),  # without SHARD_COUNT
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0;1"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS"),
    ],
)
def test_bad_shard_settings_are_one_line_naming_the_variable(
    shards: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        DiscordSettings.from_environment({"DISCORD_TOKEN": GOOD_TOKEN, **shards})

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(variable)


def test_settings_errors_are_value_errors() -> None:
    with pytest.raises(SettingsError):
        DiscordSettings.from_environment({"DISCORD_TOKEN": "x"})


def test_no_privileged_intent_is_requested() -> None:
    intents = bot_intents()

    assert (intents.guilds, intents.guild_messages, intents.dm_messages) == (True, True, True)
    assert not intents.message_content
    assert not intents.members
    assert not intents.presences
    assert intents.value == 1 | 1 << 9 | 1 << 12
