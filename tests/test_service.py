"""BotService tells listeners about every answer, and never lets one cost a member a reply."""

from __future__ import annotations

import pytest

from bot.core.cooldown import Cooldown, Verdict
from bot.core.reply import ReplyKind
from bot.core.service import Asked, BotService


def test_listeners_hear_each_reply_but_never_the_text_of_safety_messages(service: BotService):
    heard: list[Asked] = []
    service.listeners.append(heard.append)
    service.ask("how fast does ketamine work", platform="slack", member="slack:T1:U1")
    service.ask("i want to end my life", platform="discord", member="discord:42")
    advice = "how much ketamine should i take for my flashbacks"
    service.ask(advice, platform="discord", member="discord:43")
    assert [(e.platform, e.member, e.reply.kind) for e in heard] == [
        ("slack", "slack:T1:U1", ReplyKind.ANSWER),
        ("discord", "discord:42", ReplyKind.CRISIS),
        ("discord", "discord:43", ReplyKind.ADVICE),
    ]
    assert [e.message for e in heard] == ["how fast does ketamine work", None, None]
    assert all(e.knowledge_version == service.knowledge.version for e in heard)


def test_a_failing_listener_does_not_lose_the_reply(service: BotService, caplog):
    def broken(event: Asked) -> None:
        raise RuntimeError("database down")

    service.listeners.append(broken)
    reply = service.ask("what is ptsd", platform="console", member="console:local").reply
    assert reply is not None and reply.kind is ReplyKind.ANSWER
    assert "a reply listener failed" in caplog.text


@pytest.mark.parametrize("seconds", [3.0])
def test_cooldown_warns_once_then_stays_quiet(seconds: float):
    now = [100.0]
    cooldown = Cooldown(seconds, clock=lambda: now[0])
    assert cooldown.check("m") is Verdict.ALLOW
    now[0] += 1
    assert cooldown.check("m") is Verdict.WARN
    assert cooldown.check("m") is Verdict.SILENT
    assert cooldown.check("other") is Verdict.ALLOW
    now[0] += seconds
    assert cooldown.check("m") is Verdict.ALLOW
    now[0] += 0.5
    assert cooldown.check("m") is Verdict.WARN


def test_cooldown_of_zero_is_off():
    cooldown = Cooldown(0)
    assert {cooldown.check("m") for _ in range(5)} == {Verdict.ALLOW}
