"""Renders kept for reuse: the same reply is rendered once and sent many times.

Replies repeat (a knowledge base of a few dozen entries, asked about again and again), and
rendering one (Block Kit and its JSON on Slack; an embed and its buttons on Discord) costs
more CPU than the rest of an adapter's work on it. Each adapter keeps the renders of the
replies it sent lately, keyed by everything a member reads of the reply and by how it was
rendered. The key leaves out what the member wrote (``Reply.question``) and what nobody
reads (the score, the topic), so no member's words are kept here; a render that shows the
member's words (the slash command's quote) must not be kept at all.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from bot.core.reply import Reply

R = TypeVar("R")
RENDERS_KEPT = 512  # a few renders per entry of a large knowledge base; each a few KiB
UNREAD_FIELDS = frozenset({"question", "score", "topic"})  # never shown by any renderer

_shown = operator.attrgetter(
    *(field.name for field in dataclasses.fields(Reply) if field.name not in UNREAD_FIELDS)
)


def shown(reply: Reply) -> tuple[object, ...]:
    """Every part of ``reply`` a member reads: two replies alike here render alike."""
    return _shown(reply)  # type: ignore[no-any-return]


class Renders(Generic[R]):
    """The renders of the replies sent lately, oldest dropped first (bounded).

    Worker threads share it: each dictionary operation is atomic under the GIL, and two
    workers rendering the same new reply at once both render it, which is harmless.
    """

    def __init__(self, limit: int = RENDERS_KEPT) -> None:
        self._kept: OrderedDict[Hashable, R] = OrderedDict()
        self._limit = limit

    def get(self, reply: Reply, how: Hashable, render: Callable[[], R]) -> R:
        """The render of ``reply`` made ``how``; ``render()`` makes it the first time."""
        key = (shown(reply), how)
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = render()
            if len(self._kept) > self._limit:
                self._kept.popitem(last=False)
        return kept
