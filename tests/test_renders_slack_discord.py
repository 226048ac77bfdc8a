"""The renders both adapters keep: one per distinct reply as members read it, bounded."""

from __future__ import annotations

import dataclasses

from bot.adapters.rendered import Renders, shown
from tests.render_samples import answer, clarify


def test_a_reply_asked_in_other_words_reuses_the_render() -> None:
    renders: Renders[object] = Renders()
    made: list[str] = []
    first, again = answer(question="how fast?", score=91.0), answer(question="speed?", score=77.5)

    def render(question: str) -> object:
        made.append(question)
        return object()

    kept = renders.get(first, "how", lambda: render(first.question))

    assert renders.get(again, "how", lambda: render(again.question)) is kept
    assert made == ["how fast?"]


def test_what_members_read_and_how_it_is_rendered_make_a_new_render() -> None:
    renders: Renders[int] = Renders()
    reply = answer()
    counter = iter(range(100))

    one = renders.get(reply, ("Helpful", "Not helpful"), lambda: next(counter))
    other_labels = renders.get(reply, None, lambda: next(counter))
    other_body = renders.get(
        dataclasses.replace(reply, body="Another body."), None, lambda: next(counter)
    )
    other_kind = renders.get(clarify(), None, lambda: next(counter))

    assert len({one, other_labels, other_body, other_kind}) == 4


def test_the_key_never_holds_the_member_s_words() -> None:
    reply = answer(question="my own private words")

    assert "my own private words" not in shown(reply)
    assert shown(reply) == shown(dataclasses.replace(reply, question="", score=None))


def test_the_oldest_render_is_dropped_past_the_limit() -> None:
    renders: Renders[str] = Renders(limit=2)
    replies = [answer(body=f"Body {number}.") for number in range(3)]
    for reply in replies:
        renders.get(reply, None, lambda reply=reply: reply.body)

    assert renders.get(replies[0], None, lambda: "made again") == "made again"
    assert renders.get(replies[2], None, lambda: "made again") == "Body 2."
