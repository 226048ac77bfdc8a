"""Live reload: real files in a temporary folder, the real watcher, and a service answering."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from watchfiles import Change

from bot.core import reload as reload_module
from bot.core.reload import KnowledgeFilter, KnowledgeReloader, ReloadResult
from bot.core.service import Asked, BotService
from bot.knowledge import load_knowledge

ENTRY_FILE = Path("entries") / "overview.yaml"
NEW_ANSWER = "A short new answer that a moderator wrote while the bot was running."
WAIT = 10.0  # seconds; a generous bound, never a sleep


@pytest.fixture()
async def watched(live_service: BotService, folder: Path) -> AsyncIterator[Watched]:
    reloader = KnowledgeReloader(live_service, folder, quiet_ms=50, max_wait_ms=500, tick_ms=50)
    watched = Watched(reloader)
    reloader.listeners.append(watched.results.put_nowait)
    await reloader.start()
    await asyncio.wait_for(reloader.watching.wait(), WAIT)
    try:
        yield watched
    finally:
        await reloader.stop()


class Watched:
    def __init__(self, reloader: KnowledgeReloader) -> None:
        self.reloader = reloader
        self.results: asyncio.Queue[ReloadResult] = asyncio.Queue()

    async def next_result(self) -> ReloadResult:
        return await asyncio.wait_for(self.results.get(), WAIT)


def first_entry(folder: Path) -> tuple[dict, str]:
    data = yaml.safe_load((folder / ENTRY_FILE).read_text(encoding="utf-8"))
    return data, data["entries"][0]["id"]


def write_entries(folder: Path, data: dict) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    (folder / ENTRY_FILE).write_text(text, encoding="utf-8")


def change_first_answer(folder: Path, answer: str) -> str:
    data, entry_id = first_entry(folder)
    data["entries"][0]["answer"] = answer
    write_entries(folder, data)
    return entry_id


# -- through the real watcher ----------------------------------------------------------------


async def test_a_valid_edit_is_served_without_a_restart(
    watched: Watched, live_service: BotService, folder: Path
) -> None:
    old_version = live_service.knowledge.version
    question = live_service.knowledge.entries[first_entry(folder)[1]].question

    entry_id = change_first_answer(folder, NEW_ANSWER)
    result = await watched.next_result()

    assert result.loaded and result.ok and result.trigger == "watcher"
    assert result.version != old_version
    assert result.entries == len(live_service.knowledge.entries)
    assert live_service.knowledge.version == result.version
    reply = live_service.ask(question, platform="console", member="console:test").reply
    assert reply is not None and (reply.entry_id, reply.body) == (entry_id, NEW_ANSWER)


async def test_invalid_yaml_leaves_the_last_good_base_serving(
    watched: Watched, live_service: BotService, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = live_service.responder
    caplog.set_level(logging.ERROR, logger="bot.core.reload")

    (folder / ENTRY_FILE).write_text("section: Overview\nentries: [\n  - id: x\n", "utf-8")
    result = await watched.next_result()

    assert not result.loaded
    assert result.knowledge is before.knowledge
    assert live_service.responder is before
    [problem] = result.problems
    assert str(problem).startswith(f"{folder / ENTRY_FILE}:3: YAML syntax error")
    assert f"knowledge not reloaded: {problem}" in caplog.text


async def test_a_schema_error_leaves_the_last_good_base_serving(
    watched: Watched, live_service: BotService, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = live_service.responder
    data, _ = first_entry(folder)
    data["entries"][0]["answer"] = "Take 50 mg before bed."
    del data["entries"][0]["sources"]
    caplog.set_level(logging.ERROR, logger="bot.core.reload")

    write_entries(folder, data)
    result = await watched.next_result()

    assert live_service.responder is before and not result.loaded
    messages = [problem.message for problem in result.problems]
    assert messages == [
        "entries.0.sources: required but missing",  # reported at the entry's first line
        "entries.0.answer: the bot never states a dose; remove the amount",
    ]
    assert all(problem.file == str(folder / ENTRY_FILE) for problem in result.problems)
    for problem in result.problems:
        assert str(problem) in caplog.text


async def test_a_deleted_file_leaves_the_last_good_base_serving(
    watched: Watched, live_service: BotService, folder: Path
) -> None:
    before = live_service.responder

    (folder / "sources.yaml").unlink()
    result = await watched.next_result()

    assert live_service.responder is before and not result.loaded
    assert [str(problem) for problem in result.problems] == [
        f"{folder / 'sources.yaml'}:1: required file is missing"
    ]


async def test_fixing_a_broken_edit_loads_the_fix(
    watched: Watched, live_service: BotService, folder: Path
) -> None:
    good = (folder / ENTRY_FILE).read_text(encoding="utf-8")
    entry_id = first_entry(folder)[1]
    (folder / ENTRY_FILE).write_text("section: [", encoding="utf-8")
    assert (await watched.next_result()).problems

    (folder / ENTRY_FILE).write_text(good.replace("leans towards yes", "leans to yes"), "utf-8")
    fixed = await watched.next_result()

    assert fixed.loaded
    assert "leans to yes" in live_service.knowledge.entries[entry_id].answer


async def test_editor_swap_and_backup_files_are_ignored(
    watched: Watched, live_service: BotService, folder: Path
) -> None:
    before = live_service.responder
    for name in (".overview.yaml.swp", "overview.yaml~", "#overview.yaml#", ".#overview.yaml"):
        (folder / "entries" / name).write_text("entries: [broken", encoding="utf-8")
    (folder / "entries" / "overview.yaml.tmp").write_text("half a file", encoding="utf-8")

    change_first_answer(folder, NEW_ANSWER)  # the one real edit, made after the others
    result = await watched.next_result()

    assert result.loaded and live_service.responder is not before
    assert watched.results.empty()


def test_the_filter_passes_knowledge_files_only(folder: Path) -> None:
    keep = KnowledgeFilter()
    entries = folder / "entries"
    assert keep(Change.modified, str(entries / "overview.yaml"))
    assert keep(Change.added, str(folder / "notes.yml"))  # the loader reports it: reload
    assert keep(Change.deleted, str(entries))
    for name in (".overview.yaml.swp", "overview.yaml~", "#overview.yaml#", "4913", "x.tmp"):
        assert not keep(Change.modified, str(entries / name)), name
    assert not keep(Change.modified, str(entries / "overview.yaml___jb_tmp___"))


# -- reload_now: the moderator command --------------------------------------------------------


async def test_reload_command_reports_count_and_version_and_tells_listeners(
    live_service: BotService, folder: Path
) -> None:
    reloader = KnowledgeReloader(live_service, folder)
    heard: list[ReloadResult] = []
    reloader.listeners.append(heard.append)

    unchanged = await reloader.reload()
    change_first_answer(folder, NEW_ANSWER)
    changed = await reloader.reload()

    assert unchanged.unchanged and not unchanged.loaded and unchanged.ok
    assert changed.loaded and changed.trigger == "command"
    assert changed.version == load_knowledge(folder).version == live_service.knowledge.version
    assert heard == [unchanged, changed]


async def test_a_file_that_changes_while_it_is_read_is_not_served_half_written(
    live_service: BotService, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The editor is still saving while the bot reads: that read is thrown away."""
    real_load = reload_module.load_knowledge
    loads: list[str] = []

    def load_while_the_editor_writes(directory: Path):
        knowledge = real_load(directory)
        loads.append(knowledge.version)
        if len(loads) == 1:  # the save finishes just after the first read
            change_first_answer(folder, NEW_ANSWER)
        return knowledge

    monkeypatch.setattr(reload_module, "load_knowledge", load_while_the_editor_writes)
    result = KnowledgeReloader(live_service, folder).reload_now()

    assert len(loads) == 2
    assert result.loaded and result.version == loads[1] == real_load(folder).version
    assert live_service.knowledge.entries[first_entry(folder)[1]].answer == NEW_ANSWER


def test_concurrent_questions_each_see_one_whole_version(
    live_service: BotService, folder: Path
) -> None:
    """Questions asked from many threads while a reload swaps the base: old or new, no mix."""
    entry_id = first_entry(folder)[1]
    old_answer = live_service.knowledge.entries[entry_id].answer
    question = live_service.knowledge.entries[entry_id].question
    old_version = live_service.knowledge.version
    heard: list[Asked] = []
    lock = threading.Lock()

    def record(event: Asked) -> None:
        with lock:
            heard.append(event)

    live_service.listeners.append(record)
    reloaded = threading.Event()
    after_reload = threading.Barrier(5)

    def ask_until_reloaded() -> None:
        while not reloaded.is_set():
            live_service.ask(question, platform="console", member="console:test", limited=False)
        after_reload.wait(WAIT)  # every thread has seen the reload end
        for _ in range(5):
            live_service.ask(question, platform="console", member="console:test", limited=False)

    askers = [threading.Thread(target=ask_until_reloaded) for _ in range(4)]
    for thread in askers:
        thread.start()
    change_first_answer(folder, NEW_ANSWER)
    result = KnowledgeReloader(live_service, folder).reload_now()
    reloaded.set()
    after_reload.wait(WAIT)
    for thread in askers:
        thread.join(WAIT)

    assert result.loaded
    expected = {old_version: old_answer, result.version: NEW_ANSWER}
    assert {event.knowledge_version for event in heard} == set(expected)
    for event in heard:
        assert event.reply.body == expected[event.knowledge_version]
    assert all(event.knowledge_version == result.version for event in heard[-20:])
