"""Render a core ``Reply`` as Slack Block Kit: pure functions, ``Reply -> dict``, no I/O.

Slack reads ``&``, ``<`` and ``>`` as control characters (``<!channel>``, ``<@U123>``,
``<url|label>``), so every text we did not write ourselves is escaped and only our own
link and mention markup stays live. Text echoed from a member is also ``verbatim``, so
Slack does not auto-parse it either. Every part of a reply is rendered: title, body,
items, caveat, suggestions, citations (with links) and the disclaimer.

A check-in's buttons carry where the member asked (``CheckInOrigin``: channel, thread,
message ts and the entry they would have been answered with), never what they wrote, so
"No, I was asking about something else" can answer there later without keeping any text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.reply import OTHER, SUPPORT, Choice, Citation, Reply, ReplyKind, Suggestion

Block = dict[str, Any]
Message = dict[str, Any]  # the ``text`` and ``blocks`` of a Slack message

# Slack's Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
TEXT_LIMIT = 3000  # characters in one text object
BUTTON_TEXT_LIMIT = 75
ACTIONS_LIMIT = 25  # elements in one actions block
CONTEXT_ELEMENTS_LIMIT = 10
MESSAGE_BLOCKS_LIMIT = 50
HOME_BLOCKS_LIMIT = 100
ECHO_LIMIT = 500  # characters of the member's own question shown back to them

SHARE_ACTION = "ketamine_share"
HELPFUL_ACTION = "ketamine_vote_helpful"
NOT_HELPFUL_ACTION = "ketamine_vote_not_helpful"
VOTE_ACTION = re.compile(rf"^(?:{HELPFUL_ACTION}|{NOT_HELPFUL_ACTION})$")
SUGGESTION_ACTION_PREFIX = "ketamine_suggestion_"
SUGGESTION_ACTION = re.compile(rf"^{SUGGESTION_ACTION_PREFIX}\d+$")
CHECK_IN_ACTION_PREFIX = "ketamine_check_in_"
SUPPORT_ACTION = f"{CHECK_IN_ACTION_PREFIX}{SUPPORT}"  # "Yes, I'd like support"
OTHER_ACTION = f"{CHECK_IN_ACTION_PREFIX}{OTHER}"  # "No, I was asking about something else"

Where = Literal["channel", "dm", "command"]
_WHERE: tuple[Where, ...] = ("channel", "dm", "command")
_CONVERSATION_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")
_ENTRY_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # the knowledge schema's Identifier

_URL = re.compile(r"https?://[^\s<>|\"]+")
_URL_TRAILING = ".,;:!?)'"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class CheckInOrigin:
    """Where a checked-in member asked, carried in the check-in's buttons (never their words).

    ``where``: ``channel`` (a mention: the answer goes publicly in ``thread_ts``, and
    ``message_ts`` is what a moderator alert links to), ``dm`` (the answer goes in the DM,
    in ``thread_ts`` if any) or ``command`` (``/ketamine``: the answer replaces the
    check-in, privately). ``entry_id`` is the entry the member would have been answered with.
    """

    where: Where
    channel: str
    thread_ts: str | None = None
    message_ts: str | None = None
    entry_id: str | None = None

    def to_value(self) -> str:
        """The button value: compact JSON of the fields above."""
        fields = {
            "where": self.where,
            "channel": self.channel,
            "thread": self.thread_ts,
            "message": self.message_ts,
            "entry": self.entry_id,
        }
        return json.dumps({k: v for k, v in fields.items() if v}, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> CheckInOrigin | None:
        """Read a button value back; ``None`` unless every field is well formed."""
        try:
            data = json.loads(value)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        where, channel = data.get("where"), data.get("channel")
        thread, message, entry = data.get("thread"), data.get("message"), data.get("entry")
        if where not in _WHERE or not _matches(_CONVERSATION_ID, channel):
            return None
        if not all(_matches(_TS, ts, optional=True) for ts in (thread, message)):
            return None
        if not _matches(_ENTRY_ID, entry, optional=True):
            return None
        return cls(where, channel, thread, message, entry)


def _matches(pattern: re.Pattern[str], value: object, *, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, str) and pattern.match(value) is not None


def escape(text: str) -> str:
    """Escape Slack's three control characters so the text shows exactly as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_text(reply: Reply) -> str:
    """Return the notification and fallback text: the whole reply, escaped."""
    return escape(reply.text)


def render_blocks(
    reply: Reply,
    *,
    share_label: str | None = None,
    echo: bool = False,
    feedback: tuple[str, str] | None = None,
    check_in: CheckInOrigin | None = None,
) -> list[Block]:
    """Render every part of ``reply`` as blocks, the disclaimer last.

    ``share_label`` adds a "Share in channel" button to an answer (for ephemeral replies);
    ``echo`` quotes the member's question back first (for slash commands, whose text Slack
    does not show; never above a crisis reply or a check-in); ``feedback`` (the "Helpful"
    and "Not helpful" labels) adds the vote buttons to an answer; ``check_in`` adds a
    check-in's two buttons, carrying where the member asked.
    """
    blocks = []
    if echo and reply.question.strip() and not reply.safety_first:
        blocks.append(_echo(reply.question))
    blocks += _content(reply)
    if check_in is not None and reply.kind is ReplyKind.CHECK_IN and reply.choices:
        blocks.append(_check_in_buttons(reply.choices, check_in))
    if share_label and reply.kind is ReplyKind.ANSWER and reply.entry_id:
        blocks.append(_share_button(share_label, reply.entry_id))
    if feedback and reply.kind is ReplyKind.ANSWER and reply.entry_id:
        blocks.append(_vote_buttons(feedback, reply.entry_id))
    blocks.append(_context(_markup(reply.disclaimer)))
    return blocks


def render_message(
    reply: Reply,
    *,
    share_label: str | None = None,
    echo: bool = False,
    feedback: tuple[str, str] | None = None,
    check_in: CheckInOrigin | None = None,
) -> Message:
    """Build ``text`` and ``blocks`` for chat.postMessage, chat.postEphemeral or a response_url."""
    blocks = render_blocks(
        reply, share_label=share_label, echo=echo, feedback=feedback, check_in=check_in
    )
    return {"text": render_text(reply), "blocks": blocks}


def render_shared(
    reply: Reply, sharer: str, shared_by: str, *, feedback: tuple[str, str] | None = None
) -> Message:
    """Render an answer a member shares publicly: who shared it, never what they asked."""
    line = escape(shared_by).replace("{user}", mention(sharer))
    return {
        "text": f"{line}\n\n{render_text(reply)}",
        "blocks": [_context(line), *render_blocks(reply, feedback=feedback)],
    }


def render_notice(text: str) -> Message:
    """Render a one-line notice (slow down, sent privately) with no blocks."""
    return {"text": escape(text)}


def render_home(about: Reply, sources: Reply, pointer: str) -> dict[str, Any]:
    """Build the App Home tab: what the bot is, how to ask, the sources, where to find help."""
    blocks = [
        *_content(about),
        {"type": "divider"},
        *_content(sources),
        {"type": "divider"},
        *_sections(_markup(pointer)),
        _context(_markup(about.disclaimer)),
    ]
    return {"type": "home", "blocks": blocks}


def mention(user_id: str) -> str:
    """Mention a well-formed Slack user id; show anything else as plain text."""
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(user_id)


# -- parts -------------------------------------------------------------------------------


def _content(reply: Reply) -> list[Block]:
    """Render title, body, items (resources first in a crisis), caveat, suggestions, citations.

    A check-in's question follows its resources; its buttons are added by the caller.
    """
    blocks = _sections(f"*{escape(reply.title)}*")
    items = _bullets(reply.items)
    if reply.kind is ReplyKind.CRISIS:
        blocks += _sections(items) + _sections(_markup(reply.body))
    else:
        blocks += _sections(_markup(reply.body)) + _sections(items)
    if reply.question_prompt:
        blocks += _sections(f"*{escape(reply.question_prompt)}*")
    if reply.note:
        label = f"*{escape(reply.note_label)}* " if reply.note_label else ""
        blocks += _sections(label + _markup(reply.note))
    if reply.suggestions:
        if reply.suggestions_label:
            blocks += _sections(escape(reply.suggestions_label))
        blocks.append(_suggestion_buttons(reply.suggestions))
    if reply.citations and reply.kind is not ReplyKind.SOURCES:  # sources list them as items
        lines = [escape(reply.citations_label), *(f"• {_cite(c)}" for c in reply.citations)]
        blocks.append(_context("\n".join(lines)))
    return blocks


def _echo(question: str) -> Block:
    """Quote the member's words back, escaped and verbatim, so no mention can fire."""
    text = question.strip()
    if len(text) > ECHO_LIMIT:
        text = text[: ECHO_LIMIT - 1].rstrip() + "…"
    quoted = "\n".join(f"> {escape(line)}" for line in text.splitlines())
    return {"type": "section", "text": _mrkdwn(quoted, verbatim=True)}


def _suggestion_buttons(suggestions: Sequence[Suggestion]) -> Block:
    return {
        "type": "actions",
        "block_id": "ketamine_suggestions",
        "elements": [
            {
                "type": "button",
                "action_id": f"{SUGGESTION_ACTION_PREFIX}{number}",
                "text": _plain(suggestion.question),
                "value": suggestion.entry_id,
            }
            for number, suggestion in enumerate(suggestions[:ACTIONS_LIMIT])
        ],
    }


def _check_in_buttons(choices: Sequence[Choice], origin: CheckInOrigin) -> Block:
    """The check-in's answers: the choice in the action id, the place in the value."""
    value = origin.to_value()  # Slack ids and an entry id: far below Slack's 2,000 characters
    elements = []
    for choice in choices:
        button = {
            "type": "button",
            "action_id": f"{CHECK_IN_ACTION_PREFIX}{choice.id}",
            "text": _plain(choice.label),
            "value": value,
        }
        if choice.id == SUPPORT:
            button["style"] = "primary"
        elements.append(button)
    return {"type": "actions", "block_id": "ketamine_check_in", "elements": elements}


def _share_button(label: str, entry_id: str) -> Block:
    return {
        "type": "actions",
        "block_id": "ketamine_share",
        "elements": [
            {
                "type": "button",
                "action_id": SHARE_ACTION,
                "text": _plain(label),
                "value": entry_id,
                "style": "primary",
            }
        ],
    }


def _vote_buttons(labels: tuple[str, str], entry_id: str) -> Block:
    helpful, not_helpful = labels
    return {
        "type": "actions",
        "block_id": "ketamine_feedback",
        "elements": [
            {
                "type": "button",
                "action_id": HELPFUL_ACTION,
                "text": _plain(helpful),
                "value": entry_id,
            },
            {
                "type": "button",
                "action_id": NOT_HELPFUL_ACTION,
                "text": _plain(not_helpful),
                "value": entry_id,
            },
        ],
    }


def _cite(citation: Citation) -> str:
    """Show a citation's short form, linked to the source when it has a link."""
    if citation.link:
        return f"<{escape(citation.link)}|{escape(citation.short)}>"
    return escape(citation.short)


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {_markup(item)}" for item in items)


def _markup(text: str) -> str:
    """Escape knowledge text and turn its web addresses into explicit links."""
    parts = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        parts += [escape(text[last : match.start()]), f"<{escape(url)}>"]
        last = match.start() + len(url)
    parts.append(escape(text[last:]))
    return "".join(parts)


def _mrkdwn(text: str, *, verbatim: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "mrkdwn", "text": text}
    if verbatim:
        obj["verbatim"] = True
    return obj


def _plain(text: str) -> dict[str, Any]:
    """Build a plain_text object cut to fit a button, with an ellipsis when cut."""
    escaped = escape(text)
    if len(escaped) > BUTTON_TEXT_LIMIT:
        cut = text[: BUTTON_TEXT_LIMIT - 1]
        while len(escape(cut)) > BUTTON_TEXT_LIMIT - 1:
            cut = cut[:-1]
        escaped = escape(cut.rstrip()) + "…"
    return {"type": "plain_text", "text": escaped, "emoji": True}


def _sections(text: str) -> list[Block]:
    """Make one section per ``TEXT_LIMIT`` characters; none for empty text."""
    return [{"type": "section", "text": _mrkdwn(chunk)} for chunk in _chunks(text)]


def _context(text: str) -> Block:
    elements = [_mrkdwn(chunk) for chunk in _chunks(text)][:CONTEXT_ELEMENTS_LIMIT]
    return {"type": "context", "elements": elements}


def _chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at line breaks (at spaces for an over-long line) into pieces of ``limit`` at most."""
    if not text.strip():
        return []
    pieces = []
    current = ""
    for line in _fit_lines(text.split("\n"), limit):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def _fit_lines(lines: Iterable[str], limit: int) -> Iterator[str]:
    """Yield lines of ``limit`` at most, cutting an over-long one at its last fitting space."""
    for line in lines:
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            yield line[:cut]
            line = line[cut:].lstrip(" ")
        yield line
