"""Only Slack can make the bot speak, and nothing a member types can ping a channel through it."""

from __future__ import annotations

import json
import time

import pytest

from tests.slack.slack_requests import (
    direct_message,
    event_callback,
    mention,
    sign,
    slash_command,
)

INJECTION = "<!channel> <!here> <!subteam^S1|@team> <@U123> how fast does ketamine work?"
RAW_MARKUP = ["<!channel>", "<!here>", "<!subteam", "<@U123>"]


def signed_mention() -> str:
    return json.dumps(event_callback(mention("how fast does ketamine work?")))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: sign(body, secret="0" * 32), id="forged signature"),
        pytest.param(
            lambda body: sign(body, timestamp=int(time.time()) - 301), id="stale timestamp"
        ),
        pytest.param(lambda body: {}, id="missing headers"),
        pytest.param(
            lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))},
            id="missing signature",
        ),
        pytest.param(lambda body: sign(body + " "), id="body changed after signing"),
    ],
)
async def test_unsigned_or_stale_requests_get_401_and_no_web_api_call(slack, headers):
    body = signed_mention()
    status, _ = await slack.post(body, headers(body), "application/json")
    assert status == 401
    command = slash_command("/ketamine-sources", "", response_url=slack.fake.response_url())
    status, _ = await slack.post(command, headers(command), "application/x-www-form-urlencoded")
    assert status == 401
    await slack.settle()
    assert slack.fake.calls == []


async def test_a_request_signed_just_now_is_accepted(slack):
    body = signed_mention()
    status, _ = await slack.post(
        body, sign(body, timestamp=int(time.time()) - 60), "application/json"
    )
    assert status == 200


async def test_mentions_in_a_question_never_come_back_live(slack):
    await slack.send_event(mention(INJECTION))
    await slack.send_event(direct_message(INJECTION, user="U999"))
    await slack.command("/ketamine", INJECTION, slack.fake.response_url("ask"), user="U998")
    await slack.settle()

    sent = [json.dumps(call.body, ensure_ascii=False) for call in slack.fake.deliveries]
    assert len(sent) == 3
    for body in sent:
        for markup in RAW_MARKUP:
            assert markup not in body
    [command_reply] = slack.fake.bodies("response_url")  # answers may finish in any order
    echo = command_reply["blocks"][0]
    assert echo == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "> &lt;!channel&gt; &lt;!here&gt; &lt;!subteam^S1|@team&gt; &lt;@U123&gt; "
            "how fast does ketamine work?",
            "verbatim": True,
        },
    }


async def test_public_replies_never_repeat_the_members_words(slack):
    await slack.send_event(mention("my own story, how fast does ketamine work?"))
    await slack.settle()
    assert "my own story" not in json.dumps(slack.fake.bodies("chat.postMessage"))


async def test_slacks_request_url_check_is_answered_with_the_challenge(slack):
    body = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    status, text = await slack.post(body, sign(body), "application/json")
    assert status == 200
    assert json.loads(text) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert slack.fake.calls == []
