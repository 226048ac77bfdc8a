"""Slack load: the bot beside a bare slack-bolt echo, same fake, same load, in one run.

    python benchmarks/slack_load.py              # every variant: 2,000 mentions, 50 clients
    python benchmarks/slack_load.py --events 50 --variants echo,fixed      # a smoke run
    benchmarks/with_postgres.sh python benchmarks/slack_load.py --variants echo,replicas

Each variant is a server process on 127.0.0.1, pointed (``SLACK_API_URL``) at the test
suite's fake Slack Web API (``tests/slack/fake_slack.py``), which runs in this process with
the load driver: ``--clients`` connections that each send a signed ``app_mention`` and wait
for its ack before sending the next (so at most ``--clients`` deliveries are in flight, as
Slack has them). Every mention comes from a different member and asks one of the knowledge
base's wordings; every reply is matched at the fake to its mention: an answer by channel
and ``thread_ts``, a check-in by the member it went to (DM or ephemeral pointer).

Variants (``--variants``, comma-separated, in order; the ratios are to ``echo``):

- ``aiohttp`` (also ``--baseline``): a bare aiohttp endpoint that only answers 200, no
  answers: the machine's own floor for acks;
- ``echo``: ``benchmarks/echo_slack.py``, a bare ``AsyncApp`` whose ``app_mention``
  listener acks and posts the text back;
- ``echo-lean``: the same echo set up as the bot sets up Bolt (``--lean``: one
  ``auth.test`` at start-up, no assistant-thread helpers built per request); shown for
  reference, the ratios stay to ``echo``;
- ``fixed``: the bot (``benchmarks/load_bot.py``: what ``ketamine-bot run slack`` runs)
  with the core replaced by one precomputed answer, 1 worker;
- ``real1`` / ``real2``: the bot with its real core and 1 / 2 workers, pinned to one core;
- ``real2-2cores``: 2 workers, the bot allowed both cores (shared with the driver);
- ``replicas``: two bot processes (1 worker each) on two ports, the driver alternating
  mentions between them; one pinned to core 0, the other to core 1 with the driver. They
  share seen events, cooldowns and alert limits only through PostgreSQL: with
  ``--database-url`` (default ``$TEST_DATABASE_URL``) both use it, otherwise each keeps
  its own in-memory state (said in the output).

How the 2 cores are shared: this process (fake Slack + driver) is pinned to core 1; every
server is pinned to core 0 unless the variant says otherwise (column ``cores``). Each
server first answers ``--warmup`` mentions (not counted); then CPU is read from
``/proc/<pid>/stat`` (all threads), the load is sent, and CPU is read again 0.5 s after
the last answer. Answers/s runs from the first send to the last answer; end-to-end is
from sending a mention to the fake receiving its answer. The core's own cost is
``benchmarks/bench_core.py``'s whole ``respond`` p50, measured here in the same way.

The targets: ``load_results.py``; the exit status: ``load_common.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load_common as common  # noqa: E402
import load_results as results  # noqa: E402
import load_servers as serving  # noqa: E402

from tests.slack.fake_slack import Call, FakeSlack  # noqa: E402 - the same fake the tests use
from tests.slack.slack_requests import BOT_TOKEN, SIGNING_SECRET, event_callback, sign  # noqa: E402

RUNS = itertools.count(1)  # one per measurement: fresh event and member ids
DEFAULT_VARIANTS = "echo,echo-lean,fixed,real1,real2,real2-2cores,replicas"


class TimedFakeSlack(FakeSlack):
    """The tests' fake, noting when each mention's first reply reached its member.

    An answer is posted in the mention's thread; a check-in goes to the member by DM (a
    ``chat.postMessage`` to their user id) with an ephemeral pointer in the channel. The
    first of these completes the mention; a second post in the same thread, or a second
    DM, is a duplicate.
    """

    def __init__(self) -> None:
        super().__init__()
        self.answered_at: dict[tuple[str, str], float] = {}
        self.by_user: dict[str, tuple[str, str]] = {}  # member -> their mention (channel, ts)
        self._posted: set[tuple[str, str]] = set()  # (thread or DM) already posted to
        self.answers = 0
        self.duplicates = 0
        self.expected = 0
        self.all_answered = asyncio.Event()

    async def _record(self, call: Call) -> None:
        if call.method in ("chat.postMessage", "chat.postEphemeral"):
            self._note(call)
        await super()._record(call)

    def _note(self, call: Call) -> None:
        body = call.body
        channel = str(body.get("channel", ""))
        if call.method == "chat.postEphemeral":
            key, place = self.by_user.get(str(body.get("user", ""))), None
        elif channel.startswith("U"):  # a DM, to the member's user id
            key, place = self.by_user.get(channel), (channel, "")
        else:
            key = place = (channel, str(body.get("thread_ts")))
        if place is not None:
            if place in self._posted:
                self.duplicates += 1
            self._posted.add(place)
        if key is not None and key not in self.answered_at:
            self.answered_at[key] = time.perf_counter()
            self.answers += 1
            if self.answers >= self.expected:
                self.all_answered.set()

    def expect(self, count: int) -> None:
        self.expected = count
        self.all_answered.clear()
        if self.answers >= count:
            self.all_answered.set()


async def send_mentions(
    urls: list[str],
    numbers: range,
    clients: int,
    questions: list[str],
    row: results.Row,
    sent_at: dict[tuple[str, str], float],
    by_user: dict[str, tuple[str, str]],
    run: int = 0,
) -> None:
    """Send one signed mention per number from ``clients`` connections, waiting for acks.

    Event and member ids carry ``run``: replicas sharing PostgreSQL remember the events
    and cooldowns of earlier measurements, and must see only new ones.
    """
    queue = list(reversed(numbers))

    async def client(client_number: int) -> None:
        connector = aiohttp.TCPConnector(limit=len(urls))  # one connection per address
        async with aiohttp.ClientSession(connector=connector) as session:
            while queue:
                number = queue.pop()
                channel, ts = f"C{client_number:04d}", f"1700000000.{number:06d}"
                event = {
                    "type": "app_mention",
                    "user": f"U{run:03d}{number:07d}",  # one member each: no cooldown applies
                    "text": f"<@UBOT> {questions[number % len(questions)]}",
                    "ts": ts,
                    "channel": channel,
                    "event_ts": ts,
                }
                body = json.dumps(
                    event_callback(event, event_id=f"Ev{run:03d}{number:08d}")
                ).encode()
                headers = {**sign(body.decode()), "Content-Type": "application/json"}
                by_user[event["user"]] = (channel, ts)
                started = time.perf_counter()
                sent_at[(channel, ts)] = started
                async with session.post(
                    urls[number % len(urls)], data=body, headers=headers
                ) as response:
                    await response.read()
                if response.status == 200:
                    row.ack_ms.append((time.perf_counter() - started) * 1000)
                else:
                    row.failed_acks += 1

    await asyncio.gather(*(client(number) for number in range(clients)))


async def measure(
    variant: results.Variant,
    args: argparse.Namespace,
    questions: list[str],
    database_url: str | None,
    workdir: Path,
) -> results.Row:
    row = results.Row(variant)
    run = next(RUNS)
    fake = TimedFakeSlack()
    await fake.start()
    environ = serving.server_environment(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.api_url
    )
    if variant.replicas > 1:
        if database_url:
            environ["DATABASE_URL"] = database_url
            row.notes.append("replicas share state through PostgreSQL (DATABASE_URL)")
        else:
            row.notes.append(
                "replicas WITHOUT shared state (no TEST_DATABASE_URL): each keeps seen events, "
                "cooldowns and alert limits in memory; each its own SQLite store"
            )
    servers: list[serving.Server] = []
    try:
        for index, cores in enumerate(variant.cores[: variant.replicas] or variant.cores):
            env = {**environ, "STORAGE_PATH": str(workdir / f"{variant.name}-{index}.sqlite3")}
            extra = [] if variant.kind != "bot" else ["--knowledge", str(args.knowledge)]
            if args.profile and variant.kind == "bot":
                extra += [
                    "--profile",
                    str(args.profile.resolve() / f"slack-{variant.name}-{index}.prof"),
                ]
            command = serving.server_command(variant, "slack", extra)
            servers.append(await serving.Server.start(command, env, cores, args.start_timeout))
        urls = [f"http://127.0.0.1:{server.port}/slack/events" for server in servers]
        sent_at: dict[tuple[str, str], float] = {}

        # warm up: first requests pay for lazy imports, auth.test, connection set-up
        warm = results.Row(variant)
        answers = variant.kind != "floor"
        fake.expect(args.warmup if answers else 0)
        await send_mentions(
            urls,
            range(args.warmup),
            min(args.clients, args.warmup),
            questions,
            warm,
            {},
            fake.by_user,
            run,
        )
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(fake.all_answered.wait(), args.answer_timeout)
        await asyncio.sleep(0.5)
        fake.answered_at.clear()
        fake.duplicates = 0
        fake.answers = 0

        before = [server.snapshot() for server in servers]
        database_before = serving.database_cpu() if variant.replicas > 1 else None
        driver_before = time.process_time()
        fake.expect(args.events if answers else 0)
        numbers = range(100_000, 100_000 + args.events)
        started = time.perf_counter()
        await send_mentions(urls, numbers, args.clients, questions, row, sent_at, fake.by_user, run)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(fake.all_answered.wait(), args.answer_timeout)
        last = max(fake.answered_at.values(), default=time.perf_counter())
        await asyncio.sleep(0.5)  # records and logs written after the answer count too
        readings = serving.measured(row, servers, before)
        if database_before is not None:
            row.database_cpu = (serving.database_cpu() or 0.0) - database_before
        row.driver_cpu = time.process_time() - driver_before
    finally:
        for server in servers:
            await server.stop()
        await fake.close()
    row.sent = len(sent_at)
    matched = {key: at for key, at in fake.answered_at.items() if key in sent_at}
    row.answered = len(matched)
    row.lost = row.sent - row.answered if answers else 0
    row.duplicated = fake.duplicates
    row.seconds = last - started
    row.e2e_ms = [(at - sent_at[key]) * 1000 for key, at in matched.items()]
    serving.stopped(row, servers, readings)
    if row.database_cpu is not None and row.answered:
        row.notes.append(
            f"PostgreSQL CPU {row.database_cpu:.2f} s = "
            f"{row.database_cpu * 1000 / row.answered:.2f} ms per answer (not in the table)"
        )
    return row


async def run(args: argparse.Namespace) -> int:
    questions = common.wordings(args.knowledge)
    database_url = args.database_url or None
    names = args.variants.split(",")
    if args.baseline and "aiohttp" not in names:
        names.insert(0, "aiohttp")
    return await common.measure_all(
        "Slack",
        f"{args.events} signed app_mention events, {args.clients} clients each waiting for its ack",
        results.variants(names, slack=True),
        args,
        questions,
        lambda variant, workdir: measure(variant, args, questions, database_url, workdir),
        acks=True,
        times="(times in ms; answers/s from the first send to the last answer; for aiohttp, "
        "which answers nothing, acks/s and CPU per ack)",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="mentions per variant (2000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument(
        "--baseline", action="store_true", help="first the aiohttp variant (the machine's floor)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", ""),
        help="PostgreSQL the replicas share (default $TEST_DATABASE_URL; none: no sharing)",
    )
    common.add_arguments(parser, DEFAULT_VARIANTS)
    args = parser.parse_args()
    args.knowledge = args.knowledge.resolve()
    return common.start(sys.argv, __doc__.splitlines()[0], lambda: run(args))


if __name__ == "__main__":
    raise SystemExit(main())
