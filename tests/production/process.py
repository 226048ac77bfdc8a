"""``ketamine-bot run`` as its own process, as a host would start it, with its log read live.

The tests wait for the log lines the bot writes at each step (listening, ready, stopping),
never for a fixed time. The environment is built from scratch: no token of the machine's
own can leak in, and the bot talks only to fakes on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.slack.slack_requests import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0  # a cold start imports discord.py, Bolt and SQLAlchemy: ~1.5 s here
LISTENING = re.compile(r"listening on http://[^:]+:(\d+)")
HEALTH = re.compile(r"internal listener on http://[^:]+:(\d+)")


def slack_environment(api_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Slack HTTP mode on a free loopback port, against the fake Web API; JSON logs."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "PORT": "0",
        "HOST": "127.0.0.1",
        "STORAGE_PATH": str(tmp_path / "bot.sqlite3"),
        "LOG_FORMAT": "json",
        **extra,
    }


class BotProcess:
    """One ``python -m bot`` process; every line it logs is kept, parsed when JSON."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, environ: Mapping[str, str], *arguments: str, cwd: Path | None = None
    ) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *(arguments or ("run",)),
            cwd=cwd or ROOT,
            env=dict(environ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode().rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def records(self) -> list[dict[str, Any]]:
        """The JSON log records so far."""
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    async def wait_for_line(
        self, match: Callable[[str], Any], timeout: float = START_TIMEOUT
    ) -> Any:
        """The first truthy ``match(line)``; fails if the process ends first."""

        def found() -> Any:
            for line in self.lines:
                result = match(line)
                if result:
                    return result
            return None

        async def wait() -> Any:
            async with self._changed:
                while True:
                    result = found()
                    if result:
                        return result
                    if self._reader.done():
                        raise AssertionError(
                            "the bot exited before logging what was awaited:\n"
                            + "\n".join(self.lines)
                        )
                    await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def wait_for_record(self, message: str, timeout: float = START_TIMEOUT) -> dict:
        """The first JSON log record whose message is ``message``."""

        def match(line: str) -> dict | None:
            if not line.startswith("{"):
                return None
            record = json.loads(line)
            return record if record.get("message") == message else None

        return await self.wait_for_line(match, timeout)

    async def port(self, pattern: re.Pattern[str] = LISTENING) -> int:
        """The port from the first line matching ``pattern``."""
        found = await self.wait_for_line(pattern.search)
        return int(found.group(1))

    def signal(self, number: int = signal.SIGTERM) -> None:
        self.process.send_signal(number)

    async def wait(self, timeout: float = 30.0) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await self._reader
        return code

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader
