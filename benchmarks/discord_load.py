"""Discord load: the bot beside a bare discord.py echo, same fake, same load, in one run.

    python benchmarks/discord_load.py            # every variant: 2,000 mentions, 50 in flight
    python benchmarks/discord_load.py --messages 50 --variants echo,fixed  # a smoke run
    python benchmarks/discord_load.py --variants echo,real1 --channels 1
    python benchmarks/discord_load.py --in-flight 0                # all 2,000 at once
    python benchmarks/discord_load.py --in-flight 0 --rate 300     # paced: 300 a second
    python benchmarks/discord_load.py --sharded                    # the bot as AutoShardedBot

Each variant is a server process running the real discord.py client against the test
suite's fake Discord (``tests/discord/fake_discord.py``: REST + gateway on 127.0.0.1),
which runs in this process with the load driver. The driver pushes MESSAGE_CREATE events
down the gateway, keeping at most ``--in-flight`` mentions unanswered (a new one goes out
when a reply arrives). Each mention comes from a different member, in one of
``--channels`` channels, asking one of the knowledge base's wordings; each reply is
matched to its mention by ``message_reference``. End-to-end latency runs from the fake
pushing MESSAGE_CREATE to the fake's REST server receiving the reply.

Variants (``--variants``, comma-separated, in order; the ratios are to ``echo``):

- ``echo``: ``benchmarks/echo_discord.py``, a plain ``discord.Client`` that replies with
  the message content to every mention;
- ``fixed``: the bot (``benchmarks/load_bot.py``: ``BotProcess`` with ``KetamineCog``, as
  ``ketamine-bot run discord`` runs it) with the core replaced by one precomputed answer;
- ``real1`` / ``real2``: the real core with 1 / 2 workers, pinned to one core;
- ``real2-2cores``: 2 workers, the bot allowed both cores (shared with the driver).

How the 2 cores are shared: this process (fake Discord + driver) is pinned to core 1,
every server to core 0 unless the variant says otherwise (column ``cores``). Each server
first answers ``--warmup`` mentions (not counted); CPU is read from ``/proc/<pid>/stat``
(all threads) before the load and 0.5 s after its last reply. The core's own cost is
``benchmarks/bench_core.py``'s whole ``respond`` p50, measured here in the same way.

The targets: ``load_results.py``; the exit status: ``load_common.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load_common as common  # noqa: E402
import load_results as results  # noqa: E402
import load_servers as serving  # noqa: E402

from tests.discord import payloads  # noqa: E402
from tests.discord.fake_discord import FakeDiscord, Recorded  # noqa: E402

DEFAULT_VARIANTS = "echo,fixed,real1,real2,real2-2cores"
FIRST_CHANNEL = 921_000_000_000_000_001
MESSAGES_PATH = "/messages"


class Replies:
    """Match replies to mentions as the fake records them; free a slot for each."""

    def __init__(self, in_flight: int) -> None:
        self.pushed: dict[int, float] = {}
        self.answered: dict[int, float] = {}
        self.pinging = 0
        self.duplicates = 0
        self.slots = asyncio.Semaphore(in_flight if in_flight > 0 else 1_000_000_000)
        self.expected = 0
        self.done = asyncio.Event()

    def __call__(self, request: Recorded) -> None:
        if request.method != "POST" or not request.path.endswith(MESSAGES_PATH):
            return
        reference = (request.body or {}).get("message_reference") or {}
        message_id = int(reference.get("message_id", 0))
        if message_id not in self.pushed:
            return
        if message_id in self.answered:
            self.duplicates += 1
            return
        self.answered[message_id] = request.at
        if request.body.get("allowed_mentions", {}).get("parse") != []:
            self.pinging += 1
        self.slots.release()
        if len(self.answered) >= self.expected:
            self.done.set()


async def push(
    fake: FakeDiscord,
    replies: Replies,
    count: int,
    channel_ids: list[int],
    questions: list[str],
    deadline: float,
    rate: float = 0.0,
) -> None:
    replies.expected = count
    replies.done.clear()
    started = time.perf_counter()
    for number in range(count):
        if rate > 0:
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
        remaining = deadline - time.perf_counter()
        try:
            await asyncio.wait_for(replies.slots.acquire(), max(0.001, remaining))
        except asyncio.TimeoutError:
            return  # replies went missing: the report counts them
        data = payloads.mention(
            questions[number % len(questions)],
            author_id=payloads.next_id(),  # a different member each time: no cooldown
            channel_id=channel_ids[number % len(channel_ids)],
        )
        replies.pushed[int(data["id"])] = time.perf_counter()
        await fake.dispatch("MESSAGE_CREATE", data)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(replies.done.wait(), max(0.001, deadline - time.perf_counter()))


async def measure(
    variant: results.Variant, args: argparse.Namespace, questions: list[str], workdir: Path
) -> results.Row:
    row = results.Row(variant)
    fake = FakeDiscord()
    channel_ids = [FIRST_CHANNEL + n for n in range(args.channels)]
    fake.guilds[0]["channels"] += [
        payloads.text_channel(channel_id, f"room-{n}", [])
        for n, channel_id in enumerate(channel_ids)
    ]
    await fake.start()
    environ = serving.server_environment(
        DISCORD_TOKEN=fake.token, STORAGE_PATH=str(workdir / f"{variant.name}.sqlite3")
    )
    if args.sharded and variant.kind == "bot":
        environ["DISCORD_SHARDED"] = "1"  # AutoShardedBot, as DISCORD_SHARDED=1 runs it
    extra = ["--discord-base", f"http://127.0.0.1:{fake.port}"]
    if variant.kind != "echo":
        extra += ["--knowledge", str(args.knowledge)]
        if args.profile:
            extra += ["--profile", str(args.profile.resolve() / f"discord-{variant.name}.prof")]
    command = serving.server_command(variant, "discord", extra)
    server = await serving.Server.start(command, environ, variant.cores[0], args.start_timeout)
    try:
        await fake.wait_until(fake.is_live, timeout=30)
        warm = Replies(args.in_flight)
        fake.on_request = warm
        await push(
            fake,
            warm,
            args.warmup,
            channel_ids,
            questions,
            time.perf_counter() + args.answer_timeout,
        )
        await asyncio.sleep(0.5)

        replies = Replies(args.in_flight)
        fake.on_request = replies
        before = [server.snapshot()]
        driver_before = time.process_time()
        started = time.perf_counter()
        await push(
            fake,
            replies,
            args.messages,
            channel_ids,
            questions,
            started + args.answer_timeout,
            args.rate,
        )
        last = max(replies.answered.values(), default=time.perf_counter())
        await asyncio.sleep(0.5)  # records and logs written after the reply count too
        readings = serving.measured(row, [server], before)
        row.driver_cpu = time.process_time() - driver_before
    finally:
        fake.on_request = None
        await server.stop()
        await fake.close()
    row.sent = len(replies.pushed)
    row.answered = len(replies.answered)
    row.lost = args.messages - row.answered
    row.duplicated = replies.duplicates
    row.seconds = last - started
    row.e2e_ms = [(at - replies.pushed[key]) * 1000 for key, at in replies.answered.items()]
    serving.stopped(row, [server], readings)
    if replies.pinging:
        row.faults.append(f"{replies.pinging} replies could ping someone")
    return row


async def run(args: argparse.Namespace) -> int:
    questions = common.wordings(args.knowledge)
    limit = f"at most {args.in_flight} unanswered" if args.in_flight > 0 else "no in-flight limit"
    pace = f", paced at {args.rate:g}/s" if args.rate > 0 else ""
    shards = ", the bot as AutoShardedBot" if args.sharded else ""
    return await common.measure_all(
        "Discord",
        f"{args.messages} mentions, {limit}{pace}{shards}, {args.channels} channels",
        results.variants(args.variants.split(","), slack=False),
        args,
        questions,
        lambda variant, workdir: measure(variant, args, questions, workdir),
        acks=False,
        times="(times in ms; answers/s from the first push to the last reply)",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="mentions per variant (2000)")
    parser.add_argument(
        "--in-flight", type=int, default=50, help="most unanswered at once (50; 0: no limit)"
    )
    parser.add_argument("--rate", type=float, default=0, help="mentions a second (0: no pacing)")
    parser.add_argument("--sharded", action="store_true", help="the bot as AutoShardedBot")
    parser.add_argument("--channels", type=int, default=10, help="channels to spread them over")
    common.add_arguments(parser, DEFAULT_VARIANTS)
    args = parser.parse_args()
    args.knowledge = args.knowledge.resolve()
    args.channels = max(1, args.channels)
    return common.start(sys.argv, __doc__.splitlines()[0], lambda: run(args))


if __name__ == "__main__":
    raise SystemExit(main())
