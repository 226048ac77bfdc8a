"""Discord adapter under load: mentions through a fake gateway, every reply checked.

    python benchmarks/discord_load.py                  # 2,000 mentions at once
    python benchmarks/discord_load.py --rate 400       # paced: 400 mentions a second
    python benchmarks/discord_load.py --sharded        # the same through AutoShardedBot

Runs the bot as ``ketamine-bot run discord`` does (``bot.runner.serve``: the real discord.py
client, ``KetamineCog``, storage in a temporary SQLite file, metrics) against the test
suite's fake Discord on 127.0.0.1. Each mention comes
from a different member, in one of ``--channels`` channels, asking one of the knowledge
base's phrasings. Latency is end to end: from the fake pushing MESSAGE_CREATE to the
fake REST server receiving the reply. The fake runs in the same process and event
loop, so the figures include its own work: a floor for the adapter, not a ceiling.
Exits 1 unless every mention got exactly one reply that pings nobody.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord.gateway import DiscordWebSocket  # noqa: E402

from bot.adapters.discord.config import DiscordSettings  # noqa: E402
from bot.core.cooldown import Cooldown  # noqa: E402
from bot.core.service import BotService  # noqa: E402
from bot.runner import Plan, serve  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.discord import payloads  # noqa: E402
from tests.discord.fake_discord import FakeDiscord, Recorded  # noqa: E402

MESSAGES_PATH = "/messages"
FIRST_CHANNEL = 921_000_000_000_000_001


def _questions(service: BotService) -> list[str]:
    """Every way of asking the knowledge base knows, so replies mix kinds and lengths."""
    return [
        wording
        for entry in service.knowledge.entries.values()
        for wording in (entry.question, *entry.phrasings)
    ]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _benchmark(count: int, channels: int, rate: float, sharded: bool) -> int:
    fake = FakeDiscord()
    channel_ids = [FIRST_CHANNEL + n for n in range(channels)]
    fake.guilds[0]["channels"] += [
        payloads.text_channel(channel_id, f"room-{n}", [])
        for n, channel_id in enumerate(channel_ids)
    ]
    await fake.start()
    discord.http.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = fake.gateway

    service = BotService.from_directory()
    service.cooldown = Cooldown(0)  # each mention is a distinct member; measure the answers
    questions = _questions(service)

    pushed: dict[int, float] = {}
    replies: list[Recorded] = []
    all_replied = asyncio.Event()

    def count_reply(request: Recorded) -> None:
        if request.method == "POST" and request.path.endswith(MESSAGES_PATH):
            replies.append(request)
            if len(replies) >= count:
                all_replied.set()

    stop = asyncio.Event()
    storage = tempfile.TemporaryDirectory()
    plan = Plan(
        Settings(_env_file=None, STORAGE_PATH=str(Path(storage.name) / "bot.sqlite3")),
        ["discord"],
        discord=DiscordSettings(fake.token, sharded=sharded),
        options={"guild_ready_timeout": 0.05},
    )
    serving = asyncio.create_task(serve(service, plan, stop))
    await fake.wait_until(fake.is_live, timeout=10)
    fake.on_request = count_reply

    started = time.perf_counter()
    for number in range(count):
        if rate > 0:
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
        data = payloads.mention(
            questions[number % len(questions)],
            author_id=payloads.next_id(),
            channel_id=channel_ids[number % channels],
        )
        pushed[int(data["id"])] = time.perf_counter()
        await fake.dispatch("MESSAGE_CREATE", data)
    pushed_in = time.perf_counter() - started
    with contextlib.suppress(TimeoutError):  # the report says what is missing
        await asyncio.wait_for(all_replied.wait(), timeout=120)
    elapsed = time.perf_counter() - started

    stop.set()
    await serving
    await fake.close()
    storage.cleanup()
    core_started = time.perf_counter()
    for number in range(count):
        service.responder.respond(questions[number % len(questions)])
    core = (time.perf_counter() - core_started) / count
    return _report(count, channels, rate, sharded, pushed, replies, pushed_in, elapsed, core)


def _report(
    count: int,
    channels: int,
    rate: float,
    sharded: bool,
    pushed: dict[int, float],
    replies: list[Recorded],
    pushed_in: float,
    elapsed: float,
    core: float,
) -> int:
    answered = [int(reply.body["message_reference"]["message_id"]) for reply in replies]
    latencies = [
        reply.at - pushed[message_id] for reply, message_id in zip(replies, answered, strict=True)
    ]
    pinging = [r for r in replies if r.body.get("allowed_mentions", {}).get("parse") != []]
    ok = sorted(answered) == sorted(pushed) and not pinging

    mode = f"paced at {rate:g}/s" if rate > 0 else "all at once"
    bot = "AutoShardedBot" if sharded else "Bot"
    print(f"discord load: {count} mentions, {mode}, {channels} channels, commands.{bot}")
    print(f"  pushed in          {pushed_in:8.2f} s")
    print(f"  replies received   {len(replies):8d} / {count}  (each exactly once: {ok})")
    if latencies:
        print(f"  throughput         {len(replies) / elapsed:8.0f} replies/s")
        print(f"  latency p50        {statistics.median(latencies) * 1000:8.1f} ms")
        print(f"  latency p99        {_percentile(latencies, 0.99) * 1000:8.1f} ms")
        print(f"  latency max        {max(latencies) * 1000:8.1f} ms")
        if rate <= 0:  # paced runs wait between mentions: wall time per reply means nothing
            busy = elapsed / len(replies) * 1000
            print(f"  wall per reply     {busy:8.2f} ms")
        print(f"  core respond()     {core * 1000:8.2f} ms  (the same questions, without Discord)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2_000, help="mentions to push")
    parser.add_argument("--channels", type=int, default=10, help="channels to spread them over")
    parser.add_argument("--rate", type=float, default=0, help="mentions a second (0: at once)")
    parser.add_argument("--sharded", action="store_true", help="use AutoShardedBot")
    args = parser.parse_args()
    return asyncio.run(_benchmark(args.messages, max(1, args.channels), args.rate, args.sharded))


if __name__ == "__main__":
    sys.exit(main())
