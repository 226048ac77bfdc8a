"""Can the bot keep its records where the settings say? Asked by ``config check``.

A read-only folder (``/opt`` under systemd's ``ProtectSystem=strict``) or a relative path
outside the container's volume would otherwise show only when the first record fails.
The check writes and removes a temporary file, so it is right even for root (for whom
permission bits say little) and on read-only file systems.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot.storage.config import StorageError, sqlite_file, storage_url

if TYPE_CHECKING:
    from bot.settings import Settings


def storage_problems(settings: Settings) -> list[str]:
    """One line per storage location the bot could not write (empty: all is well)."""
    try:
        url = storage_url(settings)
    except StorageError:
        return []  # a malformed DATABASE_URL: run's own checks report it, once
    database = sqlite_file(url)
    if database is not None:
        problem = _unwritable(database)
        if problem:
            return [f"STORAGE_PATH: cannot keep the database at {database}: {problem}"]
    secret = settings.storage_secret_file
    if secret is None and database is not None:
        secret = database.with_suffix(".secret")
    if settings.storage_secret is None and secret is not None:
        problem = _unwritable(secret)
        if problem:
            return [f"STORAGE_SECRET_FILE: cannot keep the hashing secret at {secret}: {problem}"]
    return []


def _unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be created or written, or ``None`` when it can."""
    if path.exists():
        if path.is_dir():
            return "it is a folder"
        try:
            with path.open("ab"):
                return None
        except OSError as error:
            return error.strerror or str(error)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ketamine-bot-check-"):
            return None
    except OSError as error:
        return f"{folder} is not writable ({error.strerror or error})"
