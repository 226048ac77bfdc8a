"""What both adapters share for moderators: who they are, where alerts go, and their texts.

``Moderation`` is the one object a runner hands to each adapter::

    moderation = Moderation(
        settings=ModeratorSettings.from_environment(os.environ),
        store=store,            # bot.storage.Store: votes and the unanswered queue (optional)
        reloader=reloader,      # bot.core.reload.KnowledgeReloader, shared by every adapter
    )
    KetamineCog(bot, service, moderation=moderation)   # Discord
    attach(app, service, moderation=moderation)         # Slack

Without a store the feedback buttons are not shown and ``/ketamine-unanswered`` says the
log is off; without a reloader ``/ketamine-reload`` still reloads (the watcher is the
runner's to start). Crisis alerts and reload notices need an alert channel: off by default.

The wording of everything here comes from ``replies.yaml`` (``interface:``); this module
only fills in the numbers, so each adapter escapes and lays out plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.core.reload import KnowledgeReloader, ReloadResult
from bot.knowledge.schema import InterfaceTexts

if TYPE_CHECKING:
    from bot.storage import UnansweredGroup

UNANSWERED_DAYS = 30  # default period of /ketamine-unanswered
UNANSWERED_MAX_DAYS = 365
UNANSWERED_LIMIT = 10  # groups shown
PROBLEMS_SHOWN = 15  # reload problems listed in a chat message; the log has every one

ROLE_IDS = "MOD_ROLE_IDS"
USER_IDS = "MOD_USER_IDS"
USERGROUP_ID = "MOD_USERGROUP_ID"
ALERT_CHANNEL = "MOD_ALERT_CHANNEL"
DISCORD_ALERT_CHANNEL = "DISCORD_MOD_ALERT_CHANNEL"
SLACK_ALERT_CHANNEL = "SLACK_MOD_ALERT_CHANNEL"

_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_USERGROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_LEADING_NUMBER = re.compile(r"^[0-9]{1,6}")


class ModeratorSettingsError(ValueError):
    """A moderator setting is malformed; ``str()`` is one line naming the variable."""


class FeedbackStore(Protocol):
    """The part of ``bot.storage.Store`` the adapters use (blocking: call it in a thread)."""

    def vote(self, *, member: str, message_ref: str, entry_id: str, helpful: bool) -> None:
        """Keep one vote per member per answer message."""

    def unanswered(self, *, days: int = 30, limit: int = 10) -> Sequence[UnansweredGroup]:
        """The most frequent questions without an answer, near-identical wordings together."""


@dataclass(frozen=True)
class ModeratorSettings:
    """Who the moderators are on each platform, and their alert channels (``None``: off)."""

    discord_role_ids: frozenset[int] = frozenset()
    slack_user_ids: frozenset[str] = frozenset()
    slack_usergroup_id: str | None = None
    discord_alert_channel: int | None = None
    slack_alert_channel: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ModeratorSettings:
        """Read ``MOD_*`` variables; raise ``ModeratorSettingsError`` naming a malformed one.

        ``MOD_ALERT_CHANNEL`` serves whichever platform its value belongs to (digits:
        Discord; C.../G...: Slack); the per-platform variables win over it.
        """
        shared = _value(environ, ALERT_CHANNEL)
        if shared and not (_SNOWFLAKE.match(shared) or _SLACK_CHANNEL.match(shared)):
            raise ModeratorSettingsError(
                f"{ALERT_CHANNEL} must be a channel ID: digits for Discord, or C.../G... for Slack"
            )
        discord_channel = _value(environ, DISCORD_ALERT_CHANNEL) or (
            shared if shared and _SNOWFLAKE.match(shared) else None
        )
        slack_channel = _value(environ, SLACK_ALERT_CHANNEL) or (
            shared if shared and _SLACK_CHANNEL.match(shared) else None
        )
        if discord_channel and not _SNOWFLAKE.match(discord_channel):
            raise ModeratorSettingsError(
                f"{DISCORD_ALERT_CHANNEL} must be a channel ID, digits only "
                "(right-click the channel, Copy Channel ID)"
            )
        if slack_channel and not _SLACK_CHANNEL.match(slack_channel):
            raise ModeratorSettingsError(
                f"{SLACK_ALERT_CHANNEL} must be a channel ID such as C0123ABCD "
                "(channel details, at the bottom)"
            )
        usergroup = _value(environ, USERGROUP_ID)
        if usergroup and not _SLACK_USERGROUP.match(usergroup):
            raise ModeratorSettingsError(f"{USERGROUP_ID} must be a user group ID such as S0123ABC")
        return cls(
            discord_role_ids=frozenset(
                int(part)
                for part in _listed(environ, ROLE_IDS, _SNOWFLAKE, "role IDs, digits only")
            ),
            slack_user_ids=frozenset(
                _listed(environ, USER_IDS, _SLACK_USER, "Slack member IDs such as U0123ABCD")
            ),
            slack_usergroup_id=usergroup,
            discord_alert_channel=int(discord_channel) if discord_channel else None,
            slack_alert_channel=slack_channel,
        )


@dataclass
class Moderation:
    """Everything the moderator features of one adapter need (see the module docstring)."""

    settings: ModeratorSettings = field(default_factory=ModeratorSettings)
    store: FeedbackStore | None = None
    reloader: KnowledgeReloader | None = None


def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _listed(
    environ: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str
) -> list[str]:
    parts = [part.strip() for part in (_value(environ, name) or "").split(",") if part.strip()]
    if any(not pattern.match(part) for part in parts):
        raise ModeratorSettingsError(f"{name} must list {what}, comma-separated")
    return parts


# -- texts (plain; each adapter escapes and lays them out) ------------------------------------


def fill(template: str, **values: object) -> str:
    """Put values into a moderator-edited text: ``{name}`` only, other braces left alone."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def reload_summary(result: ReloadResult, texts: InterfaceTexts) -> str:
    """One line: reloaded with count and version, nothing new, or not reloaded."""
    numbers = {"entries": result.entries, "version": result.version}
    if result.problems:
        return fill(texts.reload_failed, version=result.version)
    if result.unchanged:
        return fill(texts.reload_unchanged, **numbers)
    return fill(texts.reload_done, **numbers)


def problem_lines(result: ReloadResult, limit: int = PROBLEMS_SHOWN) -> list[str]:
    """``file:line: message`` for each problem, the last line saying how many more there are."""
    lines = [str(problem) for problem in result.problems[:limit]]
    if len(result.problems) > limit:
        lines.append(f"… +{len(result.problems) - limit}")
    return lines


def unanswered_title(texts: InterfaceTexts, days: int, groups: Sequence[UnansweredGroup]) -> str:
    """The heading of the unanswered list, or the line saying there is nothing."""
    template = texts.unanswered_title if groups else texts.unanswered_none
    return fill(template, days=days)


def unanswered_line(texts: InterfaceTexts, group: UnansweredGroup) -> str:
    """One group: its most frequent wording (member text: escape it), how often, how many ways."""
    return fill(
        texts.unanswered_item,
        question=group.example,
        count=group.count,
        wordings=group.wordings,
    )


def days_from(text: str | None) -> int:
    """The period a moderator typed ("7", "7 days"), kept within 1 to 365; default 30.

    The reply's heading names the period used, so a typo shows rather than misleads.
    """
    match = _LEADING_NUMBER.match((text or "").strip())
    if match is None:
        return UNANSWERED_DAYS
    return max(1, min(UNANSWERED_MAX_DAYS, int(match.group())))
