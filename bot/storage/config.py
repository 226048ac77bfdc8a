"""Where the store lives and how it keys member ids, from the arguments it is given.

One place decides the database URL, the hashing secret and what text may be kept, so
that the store itself only reads and writes rows. Nothing here reads the environment:
``bot.settings`` does, once, and ``Store.from_settings`` passes the values down.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.core.normalize import LINK

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_SQLITE_PATH = Path("data") / "ketamine-bot.sqlite3"
DEFAULT_SECRET_PATH = Path("data") / "ketamine-bot.secret"
DEFAULT_RETENTION_DAYS = 90
MAX_KEPT_TEXT = 300
"""Characters of an unanswered question kept for moderators; a question is rarely longer."""

_MENTION = re.compile(r"<[@#!][^>\s]*>|<a?:\w+:\d+>")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER_RUN = re.compile(r"\+?\d[\d\s().-]*\d")
_PERSONAL_DIGITS = 7
"""A run with this many digits is a phone number or a pasted id, not a figure or a date."""
_SPACES = re.compile(r"\s+")


class StorageError(Exception):
    """The database cannot be used as configured (bad URL, unreachable server, bad secret)."""


def database_url(url: str | URL | None = None, *, sqlite_path: Path | None = None) -> URL:
    """The SQLAlchemy URL to open: ``url``, else a SQLite file at ``sqlite_path`` (or the default).

    ``postgres://`` (Heroku's spelling) and a bare ``postgresql://`` are sent to the psycopg 3
    driver, so PostgreSQL works with the one driver this package depends on. A URL that
    cannot be parsed (a port that is not a number, say) is a ``StorageError``: one line,
    never the password.
    """
    if url is None:
        return URL.create("sqlite", database=str(sqlite_path or DEFAULT_SQLITE_PATH))
    raw = url
    if isinstance(raw, str) and raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise StorageError(
            "DATABASE_URL is not a database URL (expected e.g. postgresql://user@host/db)"
        ) from None
    except ValueError:  # SQLAlchemy's int() of the port
        raise StorageError("DATABASE_URL is malformed: the port is not a number") from None
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise StorageError("DATABASE_URL is malformed: the port is out of range (1 to 65535)")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def storage_url(settings: Settings) -> URL:
    """The database the settings name: ``DATABASE_URL``, else SQLite at ``STORAGE_PATH``."""
    url = settings.database_url
    return database_url(
        url.get_secret_value() if url is not None else None, sqlite_path=settings.storage_path
    )


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL; ``None`` for in-memory SQLite and server databases."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def shown_url(url: URL) -> str:
    """The URL as it may appear in a report or a log line: never with its password."""
    return url.render_as_string(hide_password=True)


def resolve_secret(secret: bytes | str | None, url: URL, secret_file: Path | None = None) -> bytes:
    """The key for member-id hashes: ``secret`` (``STORAGE_SECRET``), else a kept file.

    The file (``secret_file``, i.e. ``STORAGE_SECRET_FILE``, else beside a SQLite database)
    is made once, mode 600. Replicas sharing a server database must share the secret, or one
    member would count as several; that is why a server database without one gets a warning.
    """
    if secret is not None:
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        if not key:
            raise StorageError("STORAGE_SECRET is empty")
        return key
    path = secret_file or _secret_path(url)
    if sqlite_file(url) is None and secret_file is None:
        log.warning(
            "STORAGE_SECRET is not set; using %s. Every replica that shares this database "
            "needs the same secret, or a member's votes count once per replica.",
            path,
        )
    return _read_or_create_secret(path)


def _secret_path(url: URL) -> Path:
    database = sqlite_file(url)
    if database is not None:
        return database.with_suffix(".secret")
    return DEFAULT_SECRET_PATH


def _read_or_create_secret(path: Path) -> bytes:
    """Read the secret file, creating it atomically (two processes may start together)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as error:
        raise StorageError(f"cannot create the storage secret {path}: {error}") from None
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        log.info("created the storage secret %s (keep it; votes are keyed with it)", path)
    try:
        key = path.read_text().strip().encode()
    except OSError as error:
        raise StorageError(f"cannot read the storage secret {path}: {error}") from None
    if not key:
        raise StorageError(f"the storage secret {path} is empty; delete it to make a new one")
    return key


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value``: stable for one secret, useless without it."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def _redact_number(match: re.Match[str]) -> str:
    run = match.group()
    return "[number]" if sum(c.isdigit() for c in run) >= _PERSONAL_DIGITS else run


def redact(text: str) -> str | None:
    """What of an unanswered question may be kept: no mentions, links, e-mails or phone numbers.

    Mentions carry other members' raw ids, and links, addresses and long numbers are the
    personal details a member is most likely to paste; none of them helps a moderator see
    what the question was about.
    """
    text = _MENTION.sub("@someone", text)
    text = LINK.sub("[link]", text)
    text = _EMAIL.sub("[e-mail]", text)
    text = _NUMBER_RUN.sub(_redact_number, text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return None
    if len(text) > MAX_KEPT_TEXT:
        text = text[: MAX_KEPT_TEXT - 1].rstrip() + "…"
    return text
