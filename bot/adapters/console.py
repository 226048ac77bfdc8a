"""Console adapter: try the bot in a terminal with no tokens at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.core.reply import OTHER, SUPPORT, Reply, ReplyKind
from bot.core.service import BotService

PROMPT = "you> "
CHOICE_PROMPT = "choose 1 or 2> "
QUIT_WORDS = {"quit", "exit", ":q"}
CHOICE_WORDS = {"1": SUPPORT, "yes": SUPPORT, "y": SUPPORT, "2": OTHER, "no": OTHER, "n": OTHER}


def _choose(service: BotService, reply: Reply, read: Callable[[str], str], out: TextIO) -> None:
    """A check-in's two buttons, as a numbered choice at the prompt."""
    for number, choice in enumerate(reply.choices, start=1):
        print(f"  {number}. {choice.label}", file=out)
    while True:
        answer = read(CHOICE_PROMPT).strip().lower()
        if answer in CHOICE_WORDS:
            break
    chosen = service.responder.after_check_in(CHOICE_WORDS[answer], reply.entry_id)
    print("\n" + chosen.text + "\n", file=out, flush=True)


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
        reply = service.ask(line, platform="console", member="console:local", limited=False).reply
        assert reply is not None  # only a cooldown holds a reply back
        print("\n" + reply.text + "\n", file=out, flush=True)
        if reply.kind is ReplyKind.CHECK_IN:
            try:
                _choose(service, reply, read, out)
            except (EOFError, KeyboardInterrupt):
                print(file=out)
                return 0
