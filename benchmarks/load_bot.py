"""The bot as ``ketamine-bot run`` starts it, for the load benchmarks: workers and core chosen.

    python benchmarks/load_bot.py slack   --core real  --workers 2   # SLACK_* from the env
    python benchmarks/load_bot.py discord --core fixed --workers 1 --discord-base http://...
    python benchmarks/load_bot.py slack --core fixed --profile /tmp/bot.prof  # the loop thread

Started by ``benchmarks/slack_load.py`` and ``benchmarks/discord_load.py``, not by hand.
It builds the ``BotService`` the way ``bot.cli`` does, then, inside this process only:
``service.pool = WorkerPool(workers=N)``; with ``--core fixed`` the responder's ``screen``
and ``finish`` return one precomputed answer (the first entry's), so everything but the core (the
cooldown, listeners, storage, metrics, logging, rendering, the platform library) still
runs. The rest is ``bot.ops.process.BotProcess``, the class ``ketamine-bot run`` uses,
with the settings from the environment (``Settings``, no ``.env`` file). Prints
``BENCH READY port=N`` on stderr once every platform is connected; on SIGTERM, which
stops it, ``BENCH THREADS {native id: thread name}`` (for the CPU-by-thread breakdown).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import signal
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fix_core(service: object) -> str:
    """Replace the core's work with one precomputed ordinary answer; its entry id.

    The answer is the first entry's, screened as nothing urgent, so every mention gets the
    same reply whatever the trained detectors would make of any one question.
    """
    responder = service.responder  # type: ignore[attr-defined]
    entry = next(iter(responder.knowledge.entries.values()))
    screened = dataclasses.replace(responder.screen(entry.question), verdict=None)
    reply = responder.answer(entry.id, entry.question)
    assert not screened.urgent and reply.kind.value == "answer"
    responder.screen = lambda message: screened
    responder.finish = lambda screened_message: reply
    return entry.id


async def serve(service: object, plan: object, profile: Path | None = None) -> int:
    from bot.ops.process import BotProcess

    process = BotProcess(service, plan)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        threads = {thread.native_id: thread.name for thread in threading.enumerate()}
        print(f"BENCH THREADS {json.dumps(threads)}", file=sys.stderr, flush=True)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    running = asyncio.create_task(process.run(stop))
    ready = asyncio.create_task(process.ready.wait())
    await asyncio.wait({running, ready}, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        port = getattr(plan.slack, "port", None) if plan.slack else None  # type: ignore[attr-defined]
        print(f"BENCH READY port={port}" if port else "BENCH READY", file=sys.stderr, flush=True)
        if profile is not None:  # the loop thread from ready to stop: no start-up in it
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            try:
                return await running
            finally:
                profiler.disable()
                profiler.dump_stats(str(profile))
    else:
        ready.cancel()
    return await running


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("platform", choices=["slack", "discord"])
    parser.add_argument("--core", choices=["real", "fixed"], default="real")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--discord-base", help="the fake's http://127.0.0.1:PORT (Discord)")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the loop thread, ready to stop"
    )
    args = parser.parse_args()

    if args.platform == "discord":
        import discord
        import yarl
        from discord.gateway import DiscordWebSocket

        discord.http.Route.BASE = f"{args.discord_base}/api/v10"
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.discord_base.replace("http", "ws") + "/")

    from bot.core.pool import WorkerPool
    from bot.core.service import BotService
    from bot.ops.logs import configure_logging
    from bot.runner import plan_run
    from bot.settings import Settings

    settings = Settings(_env_file=None)
    service = BotService.from_directory(args.knowledge)
    service.pool = WorkerPool(workers=args.workers)
    if args.core == "fixed":
        entry_id = fix_core(service)
        print(f"core replaced by a fixed answer ({entry_id})", file=sys.stderr, flush=True)
    port = free_port() if args.platform == "slack" else None
    plan = plan_run(settings, args.platform, port=port)
    if args.platform == "discord":
        plan.options = {"guild_ready_timeout": 0.05}
    configure_logging(
        log_format=settings.log_format, level=settings.log_level, secrets=settings.secrets()
    )
    gc.collect()
    gc.freeze()  # as bot.runner.run does
    return asyncio.run(serve(service, plan, args.profile))


if __name__ == "__main__":
    raise SystemExit(main())
