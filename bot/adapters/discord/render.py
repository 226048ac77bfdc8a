"""Render a core ``Reply`` for Discord: pure functions, every Discord limit honoured.

The layout never drops a part of the reply: the body (resources first for a crisis),
the caveat, the suggestions, the citations with their links and the disclaimer all
appear. When something is too long it is cut at a word or line boundary and marked
with an ellipsis, so Discord never rejects the message.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown

from bot.adapters.discord import limits
from bot.core.reply import Citation, Reply, ReplyKind

ELLIPSIS = "…"
_LIST_MARKER = re.compile(r"^(?:- |\d+\. )")
MIN_PARTIAL_LINE = 40  # shorter leftovers read as noise; end with a lone ellipsis instead
WORD_CUT_SLACK = 0.6  # cut at a space only if that keeps at least 60% of the room
KNOWN_TEXTS = 4096  # escaped knowledge texts kept (titles, answers, caveats, labels...)

KIND_COLOURS: dict[ReplyKind, int] = {
    ReplyKind.ANSWER: 0x3B82F6,
    ReplyKind.CLARIFY: 0xF59E0B,
    ReplyKind.FALLBACK: 0x6B7280,
    ReplyKind.CRISIS: 0xDB2777,
    ReplyKind.CHECK_IN: 0x0EA5E9,
    ReplyKind.NOT_COVERED: 0x64748B,
    ReplyKind.ADVICE: 0x8B5CF6,
    ReplyKind.SOURCES: 0x10B981,
    ReplyKind.HELP: 0x3B82F6,
}


# -- cutting text cleanly ------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending in "…"."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= WORD_CUT_SLACK * len(cut):
        cut = cut[:space]
    # A trailing backslash would escape the ellipsis; dangling punctuation reads badly.
    cut = cut.rstrip(" \n\t,;:-\\")
    return cut + ELLIPSIS


def fit_lines(lines: Sequence[str], limit: int) -> str:
    """Join whole ``lines`` while they fit in ``limit``; mark what was left out with "…".

    A plain line that does not fit is cut at a word; a line holding a markdown link
    is never cut in two (a half link renders as raw markup), it is left out instead.
    """
    kept: list[str] = []
    used = 0
    for line in lines:
        separator = 1 if kept else 0
        if used + separator + len(line) <= limit:
            kept.append(line)
            used += separator + len(line)
            continue
        room = limit - used - separator
        if not kept or ("](" not in line and room >= MIN_PARTIAL_LINE):
            kept.append(shorten(line, room))
        elif room >= len(ELLIPSIS):
            kept.append(ELLIPSIS)
        else:  # no room for one more line: end the last kept line with the mark instead
            while len(kept) > 1 and not kept[-1]:
                kept.pop()
            kept[-1] = shorten(kept[-1], len(kept[-1]) - 1) if len(kept[-1]) > 1 else ELLIPSIS
        break
    return "\n".join(kept)


def refit(text: str, limit: int) -> str:
    """Cut already-laid-out text to ``limit``, line by line."""
    return text if len(text) <= limit else fit_lines(text.split("\n"), limit)


# -- markdown -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Knowledge-base text is plain text: show ``*``, ``_`` and friends literally."""
    return escape_markdown(text, ignore_links=True)


@functools.lru_cache(maxsize=KNOWN_TEXTS)
def _escape_known(text: str) -> str:
    """``escape`` for the knowledge base's own texts, which every answer repeats.

    Escaping is a handful of regular expressions over the whole body (tens of
    microseconds an answer); kept for the few thousand texts a knowledge base has, it is
    a dictionary lookup. Only the replies' own texts come here, never a member's words.
    """
    return escape(text)


def _escape_text(text: str) -> str:
    """Escape ``Reply.text`` line by line, keeping its own list markers as lists."""
    lines = []
    for line in text.split("\n"):
        marker = _LIST_MARKER.match(line)
        prefix = marker.group(0) if marker else ""
        lines.append(prefix + escape(line[len(prefix) :]))
    return "\n".join(lines)


def _bullets(items: Iterable[str]) -> list[str]:
    return [f"- {_escape_known(item)}" for item in items]


def _numbered(questions: Iterable[str]) -> list[str]:
    return [f"{number}. {_escape_known(question)}" for number, question in enumerate(questions, 1)]


def citation_markdown(citation: Citation) -> str:
    """Write a citation as a clickable markdown link (plain text when it has no link)."""
    label = _escape_known(citation.short).replace("[", "(").replace("]", ")")
    if not citation.link:
        return label
    link = citation.link.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{label}]({link})"


# -- the embed ------------------------------------------------------------------------------


@dataclass
class EmbedLayout:
    """The texts of one embed before they become a ``discord.Embed`` (easy to measure)."""

    title: str
    description: str
    footer: str
    colour: int
    fields: list[tuple[str, str]] = field(default_factory=list)
    author: str = ""

    def total(self) -> int:
        """Characters Discord counts towards the 6,000 limit."""
        named = sum(len(name) + len(value) for name, value in self.fields)
        return len(self.title) + len(self.description) + named + len(self.footer) + len(self.author)


def layout_reply(reply: Reply, *, shared_by: str | None = None) -> EmbedLayout:
    """Lay out every part of ``reply``, each cut to its own Discord limit."""
    body = [_escape_known(reply.body)]
    items = _bullets(reply.items)
    # For a crisis the resources come first, before any other words; a check-in asks
    # its question last, right above the two buttons that answer it.
    blocks = [items, body] if reply.kind is ReplyKind.CRISIS else [body, items]
    if reply.kind is ReplyKind.CHECK_IN and reply.question_prompt:
        blocks.append([f"**{_escape_known(reply.question_prompt)}**"])
    fields: list[tuple[str, list[str]]] = []
    if reply.note:
        note = [_escape_known(reply.note)]
        if reply.note_label:
            fields.append((reply.note_label, note))
        else:
            blocks.append(note)
    if reply.suggestions:
        numbered = _numbered(s.question for s in reply.suggestions)
        if reply.suggestions_label:
            fields.append((reply.suggestions_label, numbered))
        else:
            blocks.append(numbered)
    if reply.citations and reply.kind is not ReplyKind.SOURCES:  # sources list them in items
        fields.append(
            (reply.citations_label, [f"- {citation_markdown(c)}" for c in reply.citations])
        )
    return EmbedLayout(
        title=shorten(_escape_known(reply.title), limits.EMBED_TITLE),
        description=fit_lines(_join_blocks(blocks), limits.EMBED_DESCRIPTION),
        footer=shorten(reply.disclaimer, limits.EMBED_FOOTER),
        colour=KIND_COLOURS.get(reply.kind, KIND_COLOURS[ReplyKind.HELP]),
        fields=[
            (
                shorten(_escape_known(name), limits.EMBED_FIELD_NAME),
                fit_lines(lines, limits.EMBED_FIELD_VALUE),
            )
            for name, lines in fields[: limits.EMBED_FIELDS]
        ],
        author=shorten(shared_by, limits.EMBED_AUTHOR) if shared_by else "",
    )


def _join_blocks(blocks: Iterable[list[str]]) -> list[str]:
    """Blank lines between blocks (body, list, caveat), as in ``Reply.text``."""
    lines: list[str] = []
    for block in blocks:
        if not block:
            continue
        if lines:
            lines.append("")
        lines += block
    return lines


def fit_total(layout: EmbedLayout, limit: int = limits.EMBED_TOTAL) -> EmbedLayout:
    """Shrink the longest, least essential parts until the whole embed fits ``limit``.

    The body gives way first, then caveat and suggestions, then citations; the
    disclaimer and the title are cut only if nothing else is left to cut.
    """
    fitted = dataclasses.replace(layout, fields=list(layout.fields))
    overflow = fitted.total() - limit
    if overflow > 0:
        fitted.description = refit(fitted.description, max(1, len(fitted.description) - overflow))
        overflow = fitted.total() - limit
    for index in reversed(range(len(fitted.fields))):
        if overflow <= 0:
            break
        name, value = fitted.fields[index]
        fitted.fields[index] = (name, refit(value, max(1, len(value) - overflow)))
        overflow = fitted.total() - limit
    if overflow > 0:
        fitted.footer = shorten(fitted.footer, max(1, len(fitted.footer) - overflow))
        overflow = fitted.total() - limit
    if overflow > 0:
        fitted.title = shorten(fitted.title, max(1, len(fitted.title) - overflow))
    return fitted


def to_embed(layout: EmbedLayout) -> discord.Embed:
    """Build the ``discord.Embed`` for a layout."""
    embed = discord.Embed(
        title=layout.title, description=layout.description or None, colour=layout.colour
    )
    for name, value in layout.fields:
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=layout.footer)
    if layout.author:
        embed.set_author(name=layout.author)
    return embed


def render_reply(reply: Reply, *, shared_by: str | None = None) -> discord.Embed:
    """``Reply -> discord.Embed`` within every embed limit; ``shared_by`` names a sharer."""
    return to_embed(fit_total(layout_reply(reply, shared_by=shared_by)))


# -- plain text -----------------------------------------------------------------------------


def render_plain(reply: Reply, limit: int = limits.MESSAGE_CONTENT) -> str:
    """Render the whole reply as message text, for channels where the bot may not embed.

    The body is shortened first so the citations and the disclaimer survive; only a
    reply with an enormous list is cut further, and the disclaimer still ends it.
    """
    text = _escape_text(reply.text)
    overflow = len(text) - limit
    if overflow > 0:
        body = shorten(reply.body, max(MIN_PARTIAL_LINE, len(reply.body) - overflow))
        text = _escape_text(dataclasses.replace(reply, body=body).text)
    if len(text) <= limit:
        return text
    disclaimer = escape(reply.disclaimer)
    head = text[: len(text) - len(disclaimer)].rstrip()
    room = limit - len(disclaimer) - 2
    return refit(head, room) + "\n\n" + disclaimer if room > 0 else shorten(disclaimer, limit)


def render_notice(text: str) -> str:
    """Fit a short interface text (cooldown, crisis pointer) into message content."""
    return shorten(text, limits.MESSAGE_CONTENT)
