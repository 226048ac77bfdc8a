"""Logs: one line per event, plain text or JSON (``LOG_FORMAT=json``), secrets blanked out.

Each answered question is one line with the platform, reply kind, entry id and latency.
What a member wrote is never logged at the default level; at ``LOG_LEVEL=DEBUG`` it is,
except for crisis and advice messages (``Asked.message`` is ``None`` for those, and this
module checks the reply kind as well).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
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
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        for key, value in _fields(record).items():
            line += f" {key}={_text(value)}"
        details = self.details(record)
        if details:
            line += " | " + details.replace("\n", "\\n")
        return self.redact(line.replace("\n", "\\n"))


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


def log_answer(event: Asked) -> None:
    """BotService listener: one line per answered question, never the text of a private one."""
    reply = event.reply
    kind = reply.kind.value
    fields: dict[str, Any] = {
        "platform": event.platform,
        "kind": kind,
        "entry_id": reply.entry_id,
        "score": round(reply.score, 1) if reply.score is not None else None,
        "latency_ms": round(event.seconds * 1000, 2),
        "knowledge_version": event.knowledge_version,
    }
    if (
        _answers.isEnabledFor(logging.DEBUG)
        and event.message is not None
        and kind not in PRIVATE_KINDS
    ):
        fields["question"] = event.message
    _answers.info("answered", extra={FIELDS: fields})


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, FIELDS, None)
    return fields if isinstance(fields, dict) else {}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _text(value: Any) -> str:
    """A field value for the text format: quoted only when it has spaces or quotes."""
    if value is None:
        return "-"
    text = str(value)
    if not text or any(ch in text for ch in ' "='):
        return json.dumps(text, ensure_ascii=False)
    return text
