"""``python -m bot.training``: split a new corpus once, or retrain the detectors.

    python -m bot.training split tests/data/safety/incoming tests/data/safety
    python -m bot.training train [crisis|advice ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.core.encoder import SentenceEncoder
from bot.knowledge.loader import default_knowledge_dir
from bot.knowledge.models import MODELS_FOLDER
from bot.training.corpus import Labelled, read_messages, write_messages
from bot.training.split import SEED, split_messages
from bot.training.train import TASKS, train_task, write_detector

HEADERS = {
    "train": "Training split: the detector learns from these. Add new messages here or to dev.",
    "dev": "Development split: thresholds are chosen on these (with train, out of fold).",
    "test": (
        "FROZEN test split: the figures in README come from here. Never tune on it, never add\n"
        "to it; a test fails if any of these appears in train, dev or knowledge/safety.yaml."
    ),
}


def split(incoming: Path, folder: Path) -> int:
    """Split every ``incoming/*.yaml`` into ``folder/{train,dev,test}.yaml``."""
    messages: list[Labelled] = []
    for path in sorted(incoming.glob("*.yaml")):
        messages += read_messages(path)
    splits = split_messages(messages, SEED)
    for name, part in splits.items():
        target = folder / f"{name}.yaml"
        if target.exists():
            print(f"{target} exists: a split is made once", file=sys.stderr)
            return 2
        write_messages(target, f"{HEADERS[name]}\nSplit by bot/training/split.py (seed {SEED}).", part)
        print(f"{target}: {len(part)} messages")
    return 0


def train(names: list[str]) -> int:
    """Retrain the named detectors (default: all) and write them into ``knowledge/models/``."""
    knowledge = default_knowledge_dir()
    repository = knowledge.parent
    encoder = SentenceEncoder.from_packages(threads=2)
    for name in names or list(TASKS):
        content = train_task(TASKS[name], repository, encoder)
        target = knowledge / MODELS_FOLDER / f"{name}.json"
        write_detector(content, target)
        print(f"wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bot.training")
    commands = parser.add_subparsers(dest="command", required=True)
    split_parser = commands.add_parser("split", help="split a new corpus once")
    split_parser.add_argument("incoming", type=Path)
    split_parser.add_argument("folder", type=Path)
    train_parser = commands.add_parser("train", help="retrain detectors from their corpora")
    train_parser.add_argument("names", nargs="*", help=f"any of {', '.join(TASKS)} (default: all)")
    arguments = parser.parse_args(argv)
    if arguments.command == "split":
        return split(arguments.incoming, arguments.folder)
    unknown = sorted(set(arguments.names) - set(TASKS))
    if unknown:
        parser.error(f"no detector called {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    return train(arguments.names)


if __name__ == "__main__":
    sys.exit(main())
