"""``ketamine-bot run`` with Slack settings, as its own process, against the fake Web API.

Health, readiness and metrics are asked over HTTP exactly as a load balancer and Prometheus
would; the question goes in as a signed slash command, as Slack would send it.
"""

from __future__ import annotations

import signal

import aiohttp
import pytest

from bot.adapters.slack.render import render_text
from bot.core.responder import Responder
from bot.knowledge import KnowledgeBase
from bot.storage import Store
from tests.conftest import KNOWLEDGE_DIR
from tests.production.process import HEALTH, BotProcess, slack_environment
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_requests import BOT_TOKEN, MEMBER, SIGNING_SECRET, sign, slash_command

FORM = "application/x-www-form-urlencoded"


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def get_json(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def ask(
    session: aiohttp.ClientSession,
    port: int,
    question: str,
    response_url: str,
    member: str = MEMBER,
) -> None:
    body = slash_command("/ketamine", question, response_url=response_url, user=member)
    async with session.post(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers={"Content-Type": FORM, **sign(body)},
    ) as response:
        assert response.status == 200


def first_entry(knowledge: KnowledgeBase) -> tuple[str, str]:
    entry_id, entry = next(iter(knowledge.entries.items()))
    return entry_id, entry.question


async def test_health_readiness_and_metrics_of_a_running_slack_bot(
    fake_slack: FakeSlack, tmp_path, knowledge: KnowledgeBase, responder: Responder
) -> None:
    signed_in = fake_slack.hold("auth.test")  # keep the bot "connecting" until we let it in
    bot = await BotProcess.start(
        slack_environment(
            fake_slack.api_url, tmp_path, METRICS_PORT="0", KNOWLEDGE_DIR=str(KNOWLEDGE_DIR)
        )
    )
    try:
        metrics_port = await bot.port(HEALTH)
        side = f"http://127.0.0.1:{metrics_port}"
        async with aiohttp.ClientSession() as session:
            assert await get_json(session, f"{side}/healthz") == (200, {"ok": True})
            status, waiting = await get_json(session, f"{side}/readyz")
            assert status == 503
            assert waiting["platforms"] == {"slack": False}
            assert waiting["knowledge"] == {
                "loaded": True,
                "entries": len(knowledge.entries),
                "version": knowledge.version,
            }

            signed_in.set()
            await bot.wait_for_record("ready")
            slack_port = await bot.port()
            status, ready = await get_json(session, f"{side}/readyz")
            assert (status, ready["ready"], ready["platforms"]) == (200, True, {"slack": True})
            # the public port: a health check for the platform's router, nothing more
            public = f"http://127.0.0.1:{slack_port}"
            assert await get_json(session, f"{public}/healthz") == (200, {"ok": True})
            assert (await get(session, f"{public}/readyz"))[0] == 404
            assert (await get(session, f"{public}/metrics"))[0] == 404

            entry_id, question = first_entry(knowledge)
            await ask(session, slack_port, question, fake_slack.response_url("q1"))
            await fake_slack.wait_for(lambda: bool(fake_slack.bodies("response_url")))
            [answer] = fake_slack.bodies("response_url")
            assert answer["text"] == render_text(responder.respond(question))

            status, metrics = await get(session, f"{side}/metrics")
        lines = metrics.splitlines()
        assert status == 200
        assert 'ketamine_bot_questions_total{kind="answer",platform="slack"} 1.0' in lines
        assert 'ketamine_bot_questions_total{kind="fallback",platform="slack"} 0.0' in lines
        assert 'ketamine_bot_answer_latency_seconds_count{platform="slack"} 1.0' in lines
        assert f"ketamine_bot_knowledge_entries {float(len(knowledge.entries))}" in lines
        assert f'ketamine_bot_knowledge_info{{version="{knowledge.version}"}} 1.0' in lines
        assert "ketamine_bot_knowledge_reload_failures_total 0.0" in lines
        assert 'ketamine_bot_platform_errors_total{platform="slack"} 0.0' in lines
        assert 'ketamine_bot_platform_connected{platform="slack"} 1.0' in lines
        assert "ketamine_bot_storage_lost_total 0.0" in lines

        bot.signal(signal.SIGTERM)
        assert await bot.wait() == 0
    finally:
        await bot.kill()

    # the record of the question was written (queued, then drained at SIGTERM at the latest)
    with Store.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}", secret=b"unused") as store:
        assert store.answer_counts() == {entry_id: 1}

    # one JSON line per event; the answer's line has its kind, entry and latency, no text
    records = bot.records
    assert len(records) == len(bot.lines)
    [answered] = [record for record in records if record["message"] == "answered"]
    assert (answered["platform"], answered["kind"], answered["entry_id"]) == (
        "slack",
        "answer",
        entry_id,
    )
    assert answered["latency_ms"] >= 0
    assert "question" not in answered
    log = "\n".join(bot.lines)
    assert question not in log
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log
    assert [record["message"] for record in records][-2:] == ["stopping", "stopped"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_while_answers_are_in_flight_lets_each_finish_then_exits_0(
    fake_slack: FakeSlack, tmp_path, knowledge: KnowledgeBase, responder: Responder, signum
) -> None:
    bot = await BotProcess.start(slack_environment(fake_slack.api_url, tmp_path))
    try:
        await bot.wait_for_record("ready")
        port = await bot.port()
        questions = [entry.question for entry in list(knowledge.entries.values())[:3]]
        delivered = fake_slack.hold("response_url")  # answers reach Slack only when we say
        async with aiohttp.ClientSession() as session:
            for number, question in enumerate(questions):  # three members: no cooldown
                url = fake_slack.response_url(f"r{number}")
                await ask(session, port, question, url, member=f"U{number}00")
            await fake_slack.wait_for(lambda: len(fake_slack.bodies("response_url")) == 3)

            bot.signal(signum)
            stopping = await bot.wait_for_record("stopping")
            assert stopping["in_flight"] == 3
            with pytest.raises(aiohttp.ClientConnectionError):  # no new events are taken
                await ask(session, port, questions[0], fake_slack.response_url("late"))
            assert bot.process.returncode is None  # still waiting for the three answers

            delivered.set()
            assert await bot.wait() == 0
    finally:
        await bot.kill()

    answered = {call.path: call for call in fake_slack.calls if call.method == "response_url"}
    assert sorted(answered) == ["/response/r0", "/response/r1", "/response/r2"]
    for number, question in enumerate(questions):
        call = answered[f"/response/r{number}"]
        assert call.status == 200
        assert call.body["response_type"] == "ephemeral"
        assert call.body["text"] == render_text(responder.respond(question))
    messages = [record["message"] for record in bot.records]
    assert messages[-2:] == ["stopping", "stopped"]
    assert not [record for record in bot.records if record["level"] in ("WARNING", "ERROR")]
