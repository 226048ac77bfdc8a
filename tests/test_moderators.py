"""Moderator settings from the environment, and the texts moderators read."""

from __future__ import annotations

import pytest

from bot.adapters.moderators import (
    ModeratorSettings,
    ModeratorSettingsError,
    days_from,
    fill,
    problem_lines,
    reload_summary,
)
from bot.core.reload import ReloadResult
from bot.knowledge import KnowledgeBase, Problem
from bot.knowledge.schema import InterfaceTexts


def test_nothing_set_means_no_moderators_and_no_alerts() -> None:
    assert ModeratorSettings.from_environment({}) == ModeratorSettings()
    assert ModeratorSettings.from_environment({"MOD_ROLE_IDS": " ", "MOD_ALERT_CHANNEL": ""}) == (
        ModeratorSettings()
    )


def test_every_variable_is_read() -> None:
    settings = ModeratorSettings.from_environment(
        {
            "MOD_ROLE_IDS": "930000000000000777, 930000000000000778",
            "MOD_USER_IDS": "U0MOD1,W0MOD2",
            "MOD_USERGROUP_ID": "S0MODS",
            "DISCORD_MOD_ALERT_CHANNEL": "920000000000000999",
            "SLACK_MOD_ALERT_CHANNEL": "G0ALERTS",
        }
    )
    assert settings == ModeratorSettings(
        discord_role_ids=frozenset({930000000000000777, 930000000000000778}),
        slack_user_ids=frozenset({"U0MOD1", "W0MOD2"}),
        slack_usergroup_id="S0MODS",
        discord_alert_channel=920000000000000999,
        slack_alert_channel="G0ALERTS",
    )


@pytest.mark.parametrize(
    ("value", "discord", "slack"),
    [("920000000000000999", 920000000000000999, None), ("C0ALERTS", None, "C0ALERTS")],
)
def test_the_shared_alert_channel_serves_the_platform_it_belongs_to(
    value: str, discord: int | None, slack: str | None
) -> None:
    settings = ModeratorSettings.from_environment({"MOD_ALERT_CHANNEL": value})
    assert (settings.discord_alert_channel, settings.slack_alert_channel) == (discord, slack)


def test_a_platform_alert_channel_wins_over_the_shared_one() -> None:
    settings = ModeratorSettings.from_environment(
        {"MOD_ALERT_CHANNEL": "C0SHARED", "SLACK_MOD_ALERT_CHANNEL": "C0SLACK"}
    )
    assert settings.slack_alert_channel == "C0SLACK"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MOD_ROLE_IDS", "moderators", "MOD_ROLE_IDS must list role IDs, digits only"),
        ("MOD_USER_IDS", "@alice", "MOD_USER_IDS must list Slack member IDs"),
        ("MOD_USERGROUP_ID", "mods", "MOD_USERGROUP_ID must be a user group ID"),
        ("MOD_ALERT_CHANNEL", "#mods", "MOD_ALERT_CHANNEL must be a channel ID"),
        ("DISCORD_MOD_ALERT_CHANNEL", "C0ABC", "DISCORD_MOD_ALERT_CHANNEL must be a channel ID"),
        ("SLACK_MOD_ALERT_CHANNEL", "987", "SLACK_MOD_ALERT_CHANNEL must be a channel ID"),
    ],
)
def test_a_malformed_setting_names_its_variable_and_never_echoes_it(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ModeratorSettingsError) as raised:
        ModeratorSettings.from_environment({variable: value})
    assert str(raised.value).startswith(message)
    assert value not in str(raised.value).replace(variable, "")


@pytest.mark.parametrize(
    ("typed", "days"),
    [("", 30), (None, 30), ("7", 7), (" 14 days", 14), ("0", 1), ("9999", 365), ("week", 30)],
)
def test_days_typed_after_the_command(typed: str | None, days: int) -> None:
    assert days_from(typed) == days


def test_fill_replaces_named_placeholders_only() -> None:
    assert fill("{a} and {b} but {c}", a=1, b="two") == "1 and two but {c}"


def test_reload_texts(knowledge: KnowledgeBase) -> None:
    texts: InterfaceTexts = knowledge.replies.interface
    problems = tuple(Problem("knowledge/x.yaml", line, "bad") for line in range(1, 20))
    failed = ReloadResult(knowledge, problems=problems)
    version, entries = knowledge.version, len(knowledge.entries)

    assert reload_summary(ReloadResult(knowledge, loaded=True), texts) == (
        f"Knowledge base reloaded: {entries} entries, version {version}."
    )
    assert reload_summary(failed, texts).startswith(
        f"The knowledge base was NOT reloaded: the bot keeps answering from version {version}."
    )
    lines = problem_lines(failed, limit=3)
    assert lines == [
        "knowledge/x.yaml:1: bad",
        "knowledge/x.yaml:2: bad",
        "knowledge/x.yaml:3: bad",
        "… +16",
    ]
