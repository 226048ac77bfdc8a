"""Console adapter: try the bot in a terminal with no tokens at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.core.service import BotService

PROMPT = "you> "
QUIT_WORDS = {"quit", "exit", ":q"}


def run_console(
    service: BotService,
    read: Callable[[str], str] = input,
    out: TextIO | None = None,
) -> int:
    """Answer questions typed at a prompt until end of input or "quit"."""
    import sys

    out = out or sys.stdout
    greeting = service.responder.help()
    print(greeting.text, file=out)
    print('\n(Type "quit" or press Ctrl-D to leave.)\n', file=out)
    while True:
        try:
            line = read(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return 0
        if line.strip().lower() in QUIT_WORDS:
            return 0
        reply = service.ask(line, platform="console", member="console:local")
        print("\n" + reply.text + "\n", file=out, flush=True)
