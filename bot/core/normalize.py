"""Turn a chat message into plain comparable words.

Members paste mentions, links, markdown, emoji and invisible characters; none of
that says anything about the question, and all of it would throw the matcher off.
"""

from __future__ import annotations

import re
import unicodedata

_MENTION = re.compile(r"<(?:@[!&]?\w+|#\w+(?:\|[^>]*)?|!\w+(?:\^[^>]*)?(?:\|[^>]*)?|a?:\w+:\d+)>")
LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_APOSTROPHE = re.compile(r"(?<=\w)['’‘`´](?=\w)")
_PERCENT = re.compile(r"%")
_NOT_WORD = re.compile(r"[\W_]+")
# Every Unicode "format" (Cf) character up to Unicode 15.1: zero-width spaces and joiners,
# bidi controls, the BOM, soft hyphens. As one class, not a per-character category
# lookup, because every knowledge-base phrasing passes through here at start-up.
_FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)


def normalize(text: str) -> str:
    """Return ``text`` as lowercase words separated by single spaces.

    NFKC folds look-alike characters (full-width letters, ligatures), casefold
    handles more than ``lower``, and apostrophes are joined ("what's" -> "whats")
    so contractions compare equal however they are typed.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _FORMAT_CHARACTERS.sub("", text)
    text = _MENTION.sub(" ", text)
    text = LINK.sub(" ", text)
    text = text.casefold()
    text = _APOSTROPHE.sub("", text)
    text = _PERCENT.sub(" percent ", text)
    text = _NOT_WORD.sub(" ", text)
    return " ".join(text.split())


ENCODER_WINDOW_CHARACTERS = 600  # about 128 tokens of chat English: what the encoder reads
ENCODER_MAX_WINDOWS = 4  # a 100 KB paste costs at most four windows, never a stall


def encoder_windows(text: str) -> list[str]:
    """The message as the sentence encoder should read it, cut into windows.

    The encoder sees case, accents and punctuation (it was trained on them), but not
    mentions, links or invisible characters. A long message is read as its first
    windows and its last one, so distress at the end of a long story is still seen.
    """
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    text = unicodedata.normalize("NFKC", text)
    text = _FORMAT_CHARACTERS.sub("", text)
    text = LINK.sub(" ", _MENTION.sub(" ", text))
    text = " ".join(text.split())
    if not text:
        return []
    size = ENCODER_WINDOW_CHARACTERS
    starts = list(range(0, len(text), size))
    if len(starts) > ENCODER_MAX_WINDOWS:
        starts = [*starts[: ENCODER_MAX_WINDOWS - 1], len(text) - size]
    return [text[start : start + size] for start in starts]
