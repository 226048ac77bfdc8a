"""The renderer is pure: assert the exact embed for each kind, and every limit for any text."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord import limits
from bot.adapters.discord.render import (
    ELLIPSIS,
    citation_markdown,
    escape,
    fit_lines,
    render_plain,
    render_reply,
    shorten,
)
from bot.adapters.discord.views import reply_view
from bot.core.reply import Citation, ReplyKind, Suggestion
from bot.core.responder import Responder
from tests.render_samples import DISCLAIMER, clarify, make_reply


def assert_within_limits(embed: dict) -> None:
    assert len(embed.get("title", "")) <= limits.EMBED_TITLE
    assert len(embed.get("description", "")) <= limits.EMBED_DESCRIPTION
    assert len(embed.get("fields", [])) <= limits.EMBED_FIELDS
    for item in embed.get("fields", []):
        assert 1 <= len(item["name"]) <= limits.EMBED_FIELD_NAME
        assert 1 <= len(item["value"]) <= limits.EMBED_FIELD_VALUE
    assert len(embed["footer"]["text"]) <= limits.EMBED_FOOTER
    assert len(embed.get("author", {}).get("name", "")) <= limits.EMBED_AUTHOR
    total = (
        len(embed.get("title", ""))
        + len(embed.get("description", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
        + len(embed["footer"]["text"])
        + len(embed.get("author", {}).get("name", ""))
    )
    assert total <= limits.EMBED_TOTAL


def test_answer_has_body_caveat_linked_citations_and_disclaimer(responder: Responder) -> None:
    entry = next(e for e in responder.knowledge.entries.values() if e.caveat)
    reply = responder.answer(entry.id)

    embed = render_reply(reply).to_dict()

    assert embed["title"] == escape(entry.question)
    assert embed["description"] == escape(entry.answer)
    assert embed["footer"] == {"text": responder.knowledge.replies.disclaimer}
    assert embed["fields"] == [
        {"name": reply.note_label, "value": escape(entry.caveat), "inline": False},
        {
            "name": reply.citations_label,
            "value": "\n".join(f"- {citation_markdown(c)}" for c in reply.citations),
            "inline": False,
        },
    ]
    for citation in reply.citations:
        if citation.link:
            assert f"]({citation.link})" in embed["fields"][1]["value"]


def test_crisis_puts_resources_first_and_offers_nothing_else(responder: Responder) -> None:
    reply = responder.crisis("")
    embed = render_reply(reply).to_dict()

    resources = "\n".join(f"- {escape(item)}" for item in reply.items)
    assert embed["description"] == resources + "\n\n" + escape(reply.body)
    assert "fields" not in embed
    assert reply_view(reply) is None


def test_sources_list_every_source_with_its_link_once(responder: Responder) -> None:
    embed = render_reply(responder.sources()).to_dict()

    for source in responder.knowledge.sources.values():
        assert (source.link or source.note) in embed["description"]
    assert "fields" not in embed  # the links are in the list, not repeated as citations


def test_suggestions_are_numbered_and_become_buttons() -> None:
    reply = clarify()
    embed = render_reply(reply).to_dict()
    view = reply_view(reply)

    assert (
        embed["description"] == "Pick the closest one:\n\n1. How \\*fast\\*?\n2. Dose & <timing>?"
    )
    assert view is not None
    assert view.to_components() == [
        {
            "type": 1,
            "components": [
                {
                    "type": 2,
                    "style": 2,
                    "label": "How *fast*?",
                    "custom_id": "ketamine:ask:speed",
                    "disabled": False,
                },
                {
                    "type": 2,
                    "style": 2,
                    "label": "Dose & <timing>?",
                    "custom_id": "ketamine:ask:dose",
                    "disabled": False,
                },
            ],
        }
    ]


def test_share_button_only_for_an_answer_with_an_entry(responder: Responder) -> None:
    entry_id = next(iter(responder.knowledge.entries))
    view = reply_view(responder.answer(entry_id), share_label="Share in channel")

    assert view is not None
    [row] = view.to_components()
    [share] = row["components"]
    assert share["custom_id"] == f"ketamine:share:{entry_id}"
    assert share["label"] == "Share in channel"
    assert reply_view(responder.help(), share_label="Share in channel") is None


def test_markdown_and_mentions_in_knowledge_text_render_literally() -> None:
    reply = make_reply(
        ReplyKind.ANSWER,
        title="What is _this_?",
        body="Use **care** with ~~this~~ `code` and @everyone <@123>.",
    )
    embed = render_reply(reply).to_dict()

    assert embed["title"] == "What is \\_this\\_?"
    assert "\\*\\*care\\*\\*" in embed["description"]
    assert "\\~\\~this\\~\\~" in embed["description"]


def test_an_over_long_reply_fits_every_limit_and_keeps_every_part() -> None:
    citations = tuple(
        Citation(
            f"s{n}", f"Author {n} et al. (2024), Journal", f"Ref {n}", f"https://doi.org/10.1/{n}"
        )
        for n in range(40)
    )
    reply = make_reply(
        ReplyKind.ANSWER,
        title="T" * 50 + " a very long title " * 30,
        body="This answer goes on and on. " * 400,
        note="A caveat that is far too long. " * 100,
        note_label="Worth knowing:",
        citations=citations,
        suggestions=tuple(Suggestion(f"e-{n}", f"Question number {n}?") for n in range(30)),
        suggestions_label="Related:",
    )

    embed = render_reply(reply).to_dict()

    assert_within_limits(embed)
    assert embed["footer"]["text"] == DISCLAIMER
    assert embed["title"].endswith(ELLIPSIS)
    assert embed["description"].startswith("This answer goes on and on.")
    cut = embed["description"].removesuffix(ELLIPSIS)
    assert cut != embed["description"]
    assert ("This answer goes on and on. " * 400).startswith(cut + " ")  # at a word boundary
    names = [f["name"] for f in embed["fields"]]
    assert names == ["Worth knowing:", "Related:", "Source:"]
    sources = embed["fields"][2]["value"].split("\n")
    assert sources[0] == f"- {citation_markdown(citations[0])}"  # whole links, never half
    assert sources[-1] == ELLIPSIS
    assert all(line == ELLIPSIS or line.endswith(")") for line in sources)


def test_long_text_is_cut_at_a_word_without_a_dangling_escape() -> None:
    assert shorten("alpha beta gamma", 12) == "alpha beta" + ELLIPSIS
    assert shorten("short", 10) == "short"
    assert shorten("abc\\*def", 5) == "abc" + ELLIPSIS  # never "abc\\…"
    assert not shorten(escape("*" * 50), 10).endswith("\\" + ELLIPSIS)


def test_fit_lines_keeps_whole_lines_and_marks_the_rest() -> None:
    lines = ["- [A](https://a.example)", "- [B](https://b.example)", "- [C](https://c.example)"]
    assert fit_lines(lines, 74) == "\n".join(lines)
    assert fit_lines(lines, 52) == "\n".join(lines[:2]) + "\n" + ELLIPSIS
    assert fit_lines(lines, 30) == lines[0] + "\n" + ELLIPSIS
    squeezed = fit_lines(lines, 24)  # no room even for a newline: the mark ends the last line
    assert len(squeezed) <= 24 and squeezed.endswith(ELLIPSIS)


def test_plain_fallback_keeps_title_citation_and_disclaimer(responder: Responder) -> None:
    entry = next(e for e in responder.knowledge.entries.values() if e.sources)
    reply = responder.answer(entry.id)
    long_reply = dataclasses.replace(reply, body="Long words here. " * 500)

    text = render_plain(long_reply)

    assert len(text) <= limits.MESSAGE_CONTENT
    assert text.startswith(escape(entry.question))
    assert text.endswith(escape(reply.disclaimer))
    for citation in reply.citations:
        assert (citation.link or escape(citation.short)) in text


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(min_size=1, max_size=600),
    body=st.text(min_size=1, max_size=9000),
    note=st.none() | st.text(min_size=1, max_size=3000),
    disclaimer=st.text(min_size=1, max_size=2500),
    items=st.lists(st.text(min_size=1, max_size=400), max_size=30),
    citations=st.integers(min_value=0, max_value=30),
    kind=st.sampled_from(list(ReplyKind)),
)
def test_any_reply_fits_every_embed_limit(
    title: str,
    body: str,
    note: str | None,
    disclaimer: str,
    items: list[str],
    citations: int,
    kind: ReplyKind,
) -> None:
    reply = make_reply(
        kind,
        title=title,
        body=body,
        disclaimer=disclaimer,
        items=tuple(items),
        note=note,
        note_label="Note:" if note else None,
        citations=tuple(
            Citation(f"c{n}", f"Short {n}", f"Reference {n}", f"https://x.example/{n}")
            for n in range(citations)
        ),
    )

    embed = render_reply(reply).to_dict()

    assert_within_limits(embed)
    assert embed["title"]
    assert len(render_plain(reply)) <= limits.MESSAGE_CONTENT
