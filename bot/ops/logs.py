"""Logs: one line per event, plain text or JSON (``LOG_FORMAT=json``), secrets blanked out.

Each answered question is one line with the platform, reply kind, entry id and latency,
at INFO: the one place an operator or moderator sees, per answer, that the bot is answering
(and with what) without opening the database. It is kept cheap rather than dropped:
nothing is built when INFO is off for ``bot.answers``, the fields are formatted only by the
handler that writes them, the record skips the caller lookup, and the timestamp's date and
time are formatted once a second. What a member wrote is never logged at the default
level; at ``LOG_LEVEL=DEBUG`` it is, except for crisis and advice messages
(``Asked.message`` is ``None`` for those, and this module checks the reply kind as well).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from bot.core.reply import PRIVATE_KINDS  # their text is never logged, at any level
from bot.core.service import Asked

ANSWERS_LOGGER = "bot.answers"
MASK = "***"
FIELDS = "fields"  # the ``extra`` key that carries structured fields

# what a library logs at INFO that is noise in production (one line per HTTP request, ...)
_QUIET_LOGGERS = {"aiohttp.access": logging.WARNING}

_answers = logging.getLogger(ANSWERS_LOGGER)


class _OneLine(logging.Formatter):
    """Shared by both formats: keep every record on one line and blank out secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # longest first, so a secret that contains another is blanked whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Replace every known secret value in ``text``."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def details(self, record: logging.LogRecord) -> str | None:
        """The exception and stack, if any, as one string (newlines escaped by the caller)."""
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts) or None


class TextFormatter(_OneLine):
    """``2025-01-01T12:00:00Z INFO bot.answers: answered platform=slack kind=answer ...``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of text."""
        parts = [f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"]
        parts += [f"{key}={_text(value)}" for key, value in _fields(record).items()]
        details = self.details(record)
        if details:
            parts += ["|", details]
        return self.redact(" ".join(parts).replace("\n", "\\n"))


class JsonFormatter(_OneLine):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, then fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one JSON object."""
        document: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            document.setdefault(key, value)
        details = self.details(record)
        if details:
            document["error"] = details
        return self.redact(json.dumps(document, ensure_ascii=False, default=str))


def configure_logging(
    *,
    log_format: str = "text",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in the chosen format, one per line.

    Replaces handlers already on the root logger (discord.py and Bolt add none unless
    asked), so a record is never written twice.
    """
    formatter = JsonFormatter(secrets) if log_format == "json" else TextFormatter(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(level)))
    return handler


class AnswerFields:
    """The fields of one answer's line, read only when a handler formats it.

    Behaves as the ``fields`` mapping every other record carries (``items``), so both
    formats print it the same way; building it costs one small object.
    """

    __slots__ = ("event", "question")

    def __init__(self, event: Asked, question: str | None) -> None:
        self.event = event
        self.question = question

    def items(self) -> Iterator[tuple[str, Any]]:
        """The fields in their order: platform, kind, entry, score, latency, version."""
        event = self.event
        reply = event.reply
        yield "platform", event.platform
        yield "kind", reply.kind.value
        yield "entry_id", reply.entry_id
        yield "score", round(reply.score, 1) if reply.score is not None else None
        yield "latency_ms", round(event.seconds * 1000, 2)
        yield "knowledge_version", event.knowledge_version
        if self.question is not None:
            yield "question", self.question


def log_answer(event: Asked) -> None:
    """BotService listener: one line per answered question, never the text of a private one."""
    if not _answers.isEnabledFor(logging.INFO):
        return  # nothing built, nothing formatted
    question = None
    if (
        event.message is not None
        and event.reply.kind.value not in PRIVATE_KINDS
        and _answers.isEnabledFor(logging.DEBUG)
    ):
        question = event.message
    # makeRecord + handle: the same record ``info`` would make, without its stack walk
    # for a file name and line that neither format prints
    record = _answers.makeRecord(
        ANSWERS_LOGGER,
        logging.INFO,
        "",  # no file: saves the record splitting a path nobody prints
        0,
        "answered",
        None,
        None,
        extra={FIELDS: AnswerFields(event, question)},
    )
    _answers.handle(record)


def _fields(record: logging.LogRecord) -> dict[str, Any] | AnswerFields:
    fields = getattr(record, FIELDS, None)
    return fields if isinstance(fields, (dict, AnswerFields)) else {}


_second: list[tuple[int, str]] = [(-1, "")]  # the last whole second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    """``2025-01-01T12:00:00.123Z`` (UTC); the date and time formatted once a second."""
    created = record.created
    whole = int(created)
    second, text = _second[0]  # one tuple, swapped whole: safe from any thread
    if whole != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second[0] = (whole, text)
    return f"{text}.{int((created - whole) * 1000):03d}Z"


def _text(value: Any) -> str:
    """A field value for the text format: quoted only when it has spaces or quotes."""
    if value is None:
        return "-"
    if type(value) in (int, float, bool):  # never a space or quote in these
        return str(value)
    text = str(value)
    if not text or " " in text or '"' in text or "=" in text:
        return json.dumps(text, ensure_ascii=False)
    return text
