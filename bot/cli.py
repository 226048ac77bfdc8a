"""``ketamine-bot``: ask, console, sources, validate, evaluate, run, report, config check.

Chat libraries are imported only by ``run``, so ``ask`` starts fast.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.exitcodes import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bot.knowledge import KnowledgeError, default_knowledge_dir


def _knowledge_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--knowledge",
        metavar="DIR",
        type=Path,
        default=argparse.SUPPRESS,
        help="knowledge folder (default: $KNOWLEDGE_DIR, else the shipped knowledge/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="ketamine-bot",
        description="Answers questions about 'Ketamine for PTSD: Does It Really Work?'.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _knowledge_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="print the reply to one question")
    ask.add_argument("question", nargs="?", help="the question; with --json and none, read stdin")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    _knowledge_option(ask)

    console = commands.add_parser("console", help="ask questions at a prompt, no tokens needed")
    _knowledge_option(console)

    sources = commands.add_parser("sources", help="list every source with its DOI or URL")
    _knowledge_option(sources)

    validate = commands.add_parser("validate", help="check the knowledge base; exit 1 on problems")
    validate.add_argument("directory", nargs="?", type=Path, help="folder to check")
    validate.add_argument(
        "--routes",
        action="store_true",
        help="also ask every wording and list those that get another reply (about 10 seconds)",
    )
    _knowledge_option(validate)

    evaluate = commands.add_parser("evaluate", help="score the bot on labelled sets")
    evaluate.add_argument(
        "sets", type=Path, nargs="+", help="YAML files of questions or labelled messages"
    )
    evaluate.add_argument("--misses", action="store_true", help="list every question it got wrong")
    _knowledge_option(evaluate)

    run = commands.add_parser(
        "run", help="run on the configured platforms (exit 2 if none, unless at a terminal)"
    )
    run.add_argument("platform", nargs="?", choices=["slack", "discord", "console"])
    run.add_argument("--port", type=int, default=None, help="HTTP port for Slack (default $PORT)")
    run.add_argument("--socket-mode", action="store_true", help="Slack Socket Mode")
    run.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="internal listener for /healthz, /readyz, /metrics (default $METRICS_PORT)",
    )
    _knowledge_option(run)

    config = commands.add_parser("config", help="check the settings from the environment/.env")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_check = config_commands.add_parser(
        "check", help="show what is set (secrets masked) and what is missing; exit 2 on a problem"
    )
    config_check.add_argument("platform", nargs="?", choices=["slack", "discord"])
    config_check.add_argument("--socket-mode", action="store_true", help="Slack Socket Mode")
    _knowledge_option(config_check)

    report = commands.add_parser("report", help="write the knowledge report for moderators")
    report.add_argument("--format", choices=["html", "markdown"], default="html")
    report.add_argument("--output", metavar="FILE", type=Path, help="default: standard output")
    report.add_argument("--days", type=_positive_int, default=30, help="period (default 30)")
    report.add_argument(
        "--stale-days", type=_positive_int, default=180, help="review age (default 180)"
    )
    _knowledge_option(report)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _knowledge_dir(args: argparse.Namespace) -> Path:
    return getattr(args, "knowledge", None) or default_knowledge_dir()


def _load_service(args: argparse.Namespace):  # noqa: ANN202 - BotService, imported lazily
    from bot.core.service import BotService

    return BotService.from_directory(_knowledge_dir(args))


def _ask(args: argparse.Namespace) -> int:
    responder = _load_service(args).responder
    if args.question is None:
        if not args.json:
            print(
                "ketamine-bot ask: give a QUESTION (or use --json to read stdin)", file=sys.stderr
            )
            return EXIT_USAGE
        # bytes that are not UTF-8 become U+FFFD, so every line out is valid UTF-8 JSON
        questions = _text_stream(sys.stdin, "replace")
        _text_stream(sys.stdout, "strict")
        for line in questions:
            reply = responder.respond(line.rstrip("\r\n"))
            sys.stdout.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return EXIT_OK
    reply = responder.respond(args.question)
    if args.json:
        print(json.dumps(reply.to_json(), ensure_ascii=False, indent=2))
    else:
        print(reply.text)
    return EXIT_OK


def _text_stream(stream: TextIO, errors: str) -> TextIO:
    """``stream`` read or written as UTF-8 with ``errors`` (a no-op for a non-file stream)."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(encoding="utf-8", errors=errors)
    return stream


def _validate(args: argparse.Namespace) -> int:
    from bot.knowledge import load_knowledge

    directory = args.directory or _knowledge_dir(args)
    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as error:
        for problem in error.problems:
            print(problem)
        print(f"{len(error.problems)} problem(s) found in {directory}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.routes:
        from bot.core.responder import Responder
        from bot.core.routes import route_problems

        problems = route_problems(Responder(knowledge), directory)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} wording(s) lead elsewhere in {directory}", file=sys.stderr)
            return EXIT_PROBLEMS
    print(
        f"{directory}: OK — {len(knowledge.entries)} entries, {len(knowledge.sources)} sources, "
        f"version {knowledge.version}"
    )
    return EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from bot.evaluation import evaluate_files

    missing = [str(path) for path in args.sets if not path.is_file()]
    if missing:
        print(f"ketamine-bot evaluate: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    figures = evaluate_files(_load_service(args).responder, args.sets)
    print(figures.summary())
    if args.misses and figures.misses:
        print("\n" + "\n".join(figures.misses))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from bot.core.service import BotService
    from bot.runner import run
    from bot.settings import SettingsProblem, export_env_file, load_settings

    try:
        export_env_file()  # before the knowledge base loads: .env may set KNOWLEDGE_DIR
        settings = load_settings()
    except SettingsProblem as problem:
        for line in problem.lines:
            print(f"ketamine-bot run: {line}", file=sys.stderr)
        return EXIT_CONFIG
    directory = getattr(args, "knowledge", None) or settings.knowledge_dir
    return run(
        BotService.from_directory(directory or default_knowledge_dir()),
        settings,
        args.platform,
        port=args.port,
        socket_mode=args.socket_mode,
        metrics_port=args.metrics_port,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "run"])
    try:
        if args.command == "ask":
            return _ask(args)
        if args.command == "console":
            from bot.adapters.console import run_console

            return run_console(_load_service(args))
        if args.command == "sources":
            print(_load_service(args).responder.sources().text)
            return EXIT_OK
        if args.command == "validate":
            return _validate(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "config":
            from bot.ops.check import check_config

            return check_config(
                getattr(args, "knowledge", None), args.platform, socket_mode=args.socket_mode
            )
        if args.command == "report":
            from bot.moderation.report import report_command

            return report_command(args)
        return _run(args)
    except KnowledgeError as error:
        print("ketamine-bot: the knowledge base has problems:", file=sys.stderr)
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_PROBLEMS
    except BrokenPipeError:  # e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
