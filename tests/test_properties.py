"""Whatever a member types, the bot replies with something readable and the disclaimer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.responder import Responder

SPECIAL = st.sampled_from(
    [
        "",
        " ",
        "\u200b\u200c\u200d\u2060\ufeff",
        "مرحبا، هل الكيتامين آمن؟",  # right-to-left
        "\u202eevil\u202c",  # bidi override
        "🙂🔥💊" * 50,
        "k" * 20_000,
        "ketamine " * 2_500,
        "<@!1234> <!channel> https://example.com *bold* `code`",
        "\x00\x01\x7f",
    ]
)
MESSAGES = st.one_of(
    SPECIAL,
    st.text(max_size=300),
    st.text(alphabet=st.characters(), min_size=1000, max_size=20_000),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(message=MESSAGES)
def test_respond_never_raises_and_always_carries_the_disclaimer(responder: Responder, message: str):
    reply = responder.respond(message)
    assert reply.text.strip()
    assert reply.disclaimer
    assert reply.text.endswith(reply.disclaimer)
    assert reply.to_json()["text"] == reply.text
