"""Live reload of ``knowledge/``: watch the folder, validate, then swap the whole base at once.

The promise to moderators is that an edit can never break the running bot:

- a change that fails validation is not loaded; the bot keeps answering from the last good
  knowledge base, every problem is logged as ``file:line: message``, and listeners (the
  adapters, which post to the moderators' alert channel) are told;
- a file still being written is not loaded: changes are debounced until the folder has been
  quiet for a moment, a load during which any file changed is thrown away (the next batch of
  changes brings it back), and a truncated file fails validation anyway. Editors' temporary
  and swap files never trigger a reload;
- the swap replaces ``service.responder`` with a new ``Responder`` built in full beforehand,
  so every request sees either the old knowledge base or the new one, never a mix.

The platform-free core owns this; the runner starts it (``await reloader.start()``) and
moderators can trigger it by command (``reload`` / ``reload_now``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

from bot.core.responder import Responder
from bot.core.service import BotService
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem, load_knowledge
from bot.knowledge.loader import ENTRIES_FOLDER

QUIET_MS = 400  # the folder must be still this long before a batch of changes is loaded
MAX_WAIT_MS = 3_000  # ... unless changes keep coming: then load after this long anyway
TICK_MS = 1_000  # how often the watcher thread checks for a stop request
SETTLE_ATTEMPTS = 3  # loads retried by reload_now while files change under it
RESTART_SECONDS = 5.0  # pause before watching again after the watcher itself failed

KNOWLEDGE_SUFFIXES = (".yaml", ".yml")

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class ReloadResult:
    """What one reload attempt did, and the knowledge base served after it."""

    knowledge: KnowledgeBase
    """The base served now: the new one when ``loaded``, else the previous one."""
    loaded: bool = False
    problems: tuple[Problem, ...] = ()
    unchanged: bool = False
    """The files are sound but identical to what is served: nothing to swap."""
    trigger: str = "watcher"
    """What asked for it: ``"watcher"`` (an edit on disk) or ``"command"`` (a moderator)."""

    @property
    def ok(self) -> bool:
        """The files validated (whether or not anything changed)."""
        return not self.problems

    @property
    def entries(self) -> int:
        """Entries in the knowledge base served now."""
        return len(self.knowledge.entries)

    @property
    def version(self) -> str:
        """Version of the knowledge base served now."""
        return self.knowledge.version


ReloadListener = Callable[[ReloadResult], "Awaitable[None] | None"]


class KnowledgeFilter(DefaultFilter):
    """Only knowledge files count: editors' swap, backup, lock and temp files are ignored."""

    def __call__(self, change: Change, path: str) -> bool:
        """Whether a change to ``path`` may mean the knowledge base changed."""
        name = os.path.basename(path)
        if name.startswith((".", "#")) or name.endswith("~"):
            return False  # vim .x.swp, emacs .#x / #x#, backups x~
        if name != ENTRIES_FOLDER and not name.endswith(KNOWLEDGE_SUFFIXES):
            return False  # x.yaml.tmp, x.yaml___jb_tmp___, x.yaml.kate-swp, vim's 4913
        return super().__call__(change, path)


def fingerprint(directory: Path) -> Fingerprint:
    """Size and modification time of every knowledge file: changes while a load reads them."""
    marks = []
    for root, folders, files in os.walk(directory):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            if not name.endswith(KNOWLEDGE_SUFFIXES):
                continue
            path = os.path.join(root, name)
            with contextlib.suppress(OSError):  # deleted between listing and stat
                stat = os.stat(path)
                marks.append((os.path.relpath(path, directory), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(marks))


class KnowledgeReloader:
    """Keeps ``service`` answering from the newest sound version of its knowledge folder.

    ``listeners`` are told about each reload the watcher or a command made (a new version
    loaded, or problems that kept it out); adapters add one that tells the moderators.
    """

    def __init__(
        self,
        service: BotService,
        directory: Path | str | None = None,
        *,
        quiet_ms: int = QUIET_MS,
        max_wait_ms: int = MAX_WAIT_MS,
        tick_ms: int = TICK_MS,
    ) -> None:
        self.service = service
        self.directory = Path(directory) if directory is not None else service.knowledge.directory
        self.listeners: list[ReloadListener] = []
        self.quiet_ms = quiet_ms
        self.max_wait_ms = max_wait_ms
        self.tick_ms = tick_ms
        self.watching = asyncio.Event()
        """Set once the watcher is live: every change made after it is seen."""
        self._lock = threading.Lock()
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_failure: tuple[Problem, ...] = ()

    # -- reloading ------------------------------------------------------------------------

    def reload_now(self) -> ReloadResult:
        """Load and validate the folder; swap it in when sound. Blocking: call it in a thread."""
        for _ in range(SETTLE_ATTEMPTS):
            result = self._attempt()
            if result is not None:
                return result
        log.warning("knowledge files kept changing while being read; loading them as they are")
        result = self._attempt(settled_only=False)
        assert result is not None
        return result

    async def reload(self) -> ReloadResult:
        """Reload now (the moderator command) and tell the listeners what happened."""
        result = dataclasses.replace(await asyncio.to_thread(self.reload_now), trigger="command")
        await self._announce(result)
        return result

    def _attempt(self, *, settled_only: bool = True) -> ReloadResult | None:
        """One load; ``None`` when a file changed while it was read (nothing is swapped)."""
        with self._lock:
            served = self.service.knowledge
            before = fingerprint(self.directory)
            try:
                knowledge = load_knowledge(self.directory)
            except KnowledgeError as error:
                if settled_only and fingerprint(self.directory) != before:
                    return None
                for problem in error.problems:
                    log.error("knowledge not reloaded: %s", problem)
                log.error(
                    "knowledge base not reloaded (%d problem(s)); still serving version %s",
                    len(error.problems),
                    served.version,
                )
                return ReloadResult(served, problems=tuple(error.problems))
            if settled_only and fingerprint(self.directory) != before:
                return None
            if knowledge.version == served.version:
                return ReloadResult(served, unchanged=True)
            responder = Responder(knowledge)  # built in full before anyone can see it
            self.service.responder = responder  # one reference swap: old or new, never a mix
            self.service.cooldown.seconds = knowledge.limits.cooldown_seconds
            log.info(
                "knowledge base reloaded: %d entries, version %s (was %s)",
                len(knowledge.entries),
                knowledge.version,
                served.version,
            )
            return ReloadResult(knowledge, loaded=True)

    async def _announce(self, result: ReloadResult) -> None:
        for listener in list(self.listeners):
            try:
                outcome = listener(result)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # telling moderators must never stop reloads
                log.exception("a reload listener failed")

    # -- watching ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching the folder in the background (again after ``stop``)."""
        if self._task is not None and not self._task.done():
            return
        self._stop = asyncio.Event()
        self.watching.clear()
        self._task = asyncio.get_running_loop().create_task(
            self._watch_forever(self._stop), name="knowledge-watcher"
        )

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to end."""
        if self._stop is not None:
            self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.watching.clear()

    async def _watch_forever(self, stop: asyncio.Event) -> None:
        """Watch until stopped; a failure of the watcher itself is logged and retried."""
        while not stop.is_set():
            try:
                await self._watch(stop)
            except Exception:
                log.exception("watching %s failed; retrying", self.directory)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_SECONDS)

    async def _watch(self, stop: asyncio.Event) -> None:
        log.info("watching %s for knowledge-base edits", self.directory)
        async for changes in awatch(
            self.directory,
            watch_filter=KnowledgeFilter(),
            debounce=self.max_wait_ms,
            step=self.quiet_ms,
            stop_event=stop,
            rust_timeout=self.tick_ms,
            yield_on_timeout=True,  # the first (empty) batch tells us the watcher is live
        ):
            self.watching.set()
            if changes:
                await self._changed()

    async def _changed(self) -> None:
        """A batch of edits has settled: load it, and tell listeners what is new."""
        result = await asyncio.to_thread(self._attempt)
        if result is None:  # still being written: the next batch of changes reloads it
            log.info("knowledge files changed while being read; waiting for them to settle")
            return
        if result.unchanged:
            return
        if result.problems and result.problems == self._last_failure:
            return  # saved again with the same problems: moderators were told already
        self._last_failure = result.problems
        await self._announce(result)
