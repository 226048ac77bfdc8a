"""Turn a chat message into plain comparable words.

Members paste mentions, links, markdown, emoji and invisible characters; none of
that says anything about the question, and all of it would throw the matcher off.
"""

from __future__ import annotations

import re
import unicodedata

_MENTION = re.compile(
    r"<(?:@[!&]?\w+|#\w+(?:\|[^>]*)?|!\w+(?:\^[^>]*)?(?:\|[^>]*)?|a?:\w+:\d+)>"
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_APOSTROPHE = re.compile(r"(?<=\w)['’‘`´](?=\w)")
_PERCENT = re.compile(r"%")
_NOT_WORD = re.compile(r"[\W_]+")


def _drop_format_characters(text: str) -> str:
    """Remove zero-width, bidi-control and other invisible format characters."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def normalize(text: str) -> str:
    """Return ``text`` as lowercase words separated by single spaces.

    NFKC folds look-alike characters (full-width letters, ligatures), casefold
    handles more than ``lower``, and apostrophes are joined ("what's" -> "whats")
    so contractions compare equal however they are typed.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _drop_format_characters(text)
    text = _MENTION.sub(" ", text)
    text = _URL.sub(" ", text)
    text = text.casefold()
    text = _APOSTROPHE.sub("", text)
    text = _PERCENT.sub(" percent ", text)
    text = _NOT_WORD.sub(" ", text)
    return " ".join(text.split())
