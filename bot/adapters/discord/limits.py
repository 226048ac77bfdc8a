"""Discord's documented size limits, in one place.

Discord rejects a whole message (HTTP 400) when any part is one character too long,
so the renderer cuts to these numbers before anything is sent.
"""

from __future__ import annotations

EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FIELDS = 25
EMBED_FOOTER = 2048
EMBED_AUTHOR = 256
EMBED_TOTAL = 6000

MESSAGE_CONTENT = 2000

BUTTON_LABEL = 80
BUTTONS_PER_MESSAGE = 25
CUSTOM_ID = 100

AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
