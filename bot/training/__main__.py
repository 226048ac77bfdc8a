"""``python -m bot.training``: split a new corpus once, or retrain the safety screen.

``split INCOMING FOLDER`` splits new corpus files once into train/dev/test;
``add INCOMING FOLDER`` appends later messages to the train split (never to test);
``train [--folds N] [--epochs N]`` fine-tunes the encoder and writes ``knowledge/models/``
(``--folds 0``: one fine-tune on everything, then ``refit``, a third of the time);
``refit [--detector NAME] [--folds N]`` refits the heads and thresholds on the shipped
encoder, and the answer check (``answers``: when the best-ranked entry is the answer) on
the labelled questions (minutes; for new labelled messages);
``retire NOTE`` moves the scored frozen test sets into the retired files; ``brief FOLDER``
writes the fresh writers' briefs and ``assemble FOLDER`` gathers their files
(``bot.training.briefs``); ``freeze INCOMING NOTE`` writes the fresh sets in place of the
retired ones, minus repeats (``bot.training.rounds``);
``references [--knowledge DIR]`` records the exported encoder's own reference vectors in
detector files written before training did so (no retraining, a second or two).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.evaluation import load_cases
from bot.knowledge.loader import default_knowledge_dir
from bot.knowledge.models import ANSWER_CHECK, DETECTORS, MODELS_FOLDER
from bot.knowledge.schema import DetectorFile
from bot.training.answers import fit_answer_check
from bot.training.corpus import Labelled, fold, read_messages, read_split, write_messages
from bot.training.finetune import Recipe
from bot.training.split import SEED, near_repeats, split_messages
from bot.training.train import (
    INT8_FLOOR,
    int8_agreement,
    reference_vectors,
    train_all,
    write_detector,
)

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
        header = f"{HEADERS[name]}\nSplit by bot/training/split.py (seed {SEED})."
        write_messages(target, header, part)
        print(f"{target}: {len(part)} messages")
    return 0


def add(incoming: Path, folder: Path) -> int:
    """Append new messages to ``folder/train.yaml``, never to a frozen test split.

    A message that repeats one already in the corpus is skipped, and so is one that nearly
    repeats a message of any frozen test set beside it: training on it would leak the test
    into the model.
    """
    messages: list[Labelled] = []
    for path in sorted(incoming.glob("*.yaml")):
        messages += read_messages(path)
    # Between two rounds (retired, not yet frozen) there is no test split: nothing to skip.
    existing = {
        split: read_split(folder, split)
        for split in ("train", "dev", "test")
        if (folder / f"{split}.yaml").is_file()
    }
    seen = {fold(m.text) for part in existing.values() for m in part}
    fresh = list({fold(m.text): m for m in messages if fold(m.text) not in seen}.values())
    # Every set of every corpus that nothing may learn from: the frozen tests (test.yaml,
    # everyday-test.yaml, the questions' test) and the retired ones that bands are chosen
    # on. A safety message may be near an advice test question, and the other way round.
    frozen = sorted({*folder.parent.glob("*/*test.yaml"), *folder.parent.glob("*/retired-*.yaml")})
    tests = [fold(case.text) for path in frozen for case in load_cases(path)]
    leaks = near_repeats([fold(m.text) for m in fresh], tests)
    kept = [m for m in fresh if fold(m.text) not in leaks]
    header = (folder / "train.yaml").read_text(encoding="utf-8").split("\nmessages:", 1)[0]
    comment = "\n".join(line[2:] if line.startswith("# ") else "" for line in header.splitlines())
    write_messages(folder / "train.yaml", comment.strip(), [*existing["train"], *kept])
    print(
        f"added {len(kept)} messages to {folder / 'train.yaml'}; skipped "
        f"{len(messages) - len(fresh)} repeats and {len(fresh) - len(kept)} near test messages"
    )
    return 0


def train(folds: int, epochs: int) -> int:
    """Retrain the safety screen and write it into ``knowledge/models/``."""
    knowledge = default_knowledge_dir()
    train_all(knowledge.parent, knowledge / MODELS_FOLDER, Recipe(epochs=epochs), folds)
    # a new encoder gives new meaning scores: the answer check must learn them again
    fit_answer_check(knowledge.parent, knowledge)
    print(f"wrote {knowledge / MODELS_FOLDER}; check with: ketamine-bot validate")
    return 0


def references(knowledge: Path) -> int:
    """Add the exported encoder's own vectors to each detector's float reference vectors.

    The float vectors stay as training wrote them; the new ones pin the int8 encoder as the
    bot reads it. Refuses (exit 1, nothing written) when the encoder does not match the
    float vectors, so a wrong model or layer can never be pinned as right.
    """
    import numpy as np

    from bot.core.encoder import encoder_for

    models = knowledge / MODELS_FOLDER
    updated: dict[Path, dict[str, object]] = {}
    for name in DETECTORS:
        path = models / f"{name}.json"
        content = json.loads(path.read_text(encoding="utf-8"))
        detector = DetectorFile.model_validate(content)
        if not detector.references:
            print(f"{path}: no reference vectors; retrain with: python -m bot.training train")
            return 1
        texts = [reference.text for reference in detector.references]
        floats = np.array([reference.vector for reference in detector.references])
        content["references"] = reference_vectors(texts, floats, encoder_for(knowledge, detector))
        agreement = int8_agreement(content["references"])
        if agreement < INT8_FLOOR:
            print(
                f"{path}: the exported encoder's lowest cosine to the float model is "
                f"{agreement:.4f}, below {INT8_FLOOR}: retrain instead"
            )
            return 1
        content.setdefault("development", {})["int8_cosine_min"] = round(agreement, 4)
        updated[path] = content
    for path, content in updated.items():
        write_detector(content, path)
        print(f"{path}: reference vectors recorded")
    return 0


def refit(knowledge: Path, names: list[str], folds: int) -> int:
    """Refit the named heads on the shipped encoder (``bot.training.refit``, ``.answers``)."""
    from bot.training.refit import refit_heads

    detectors = [name for name in names if name in DETECTORS]
    if detectors:
        refit_heads(knowledge.parent, knowledge, detectors, folds)
    if ANSWER_CHECK in names:
        fit_answer_check(knowledge.parent, knowledge, folds)
    print(f"wrote {knowledge / MODELS_FOLDER}; check with: ketamine-bot validate")
    return 0


def _round(arguments: argparse.Namespace) -> int:
    """``retire`` or ``freeze``: one step of a new round of frozen test sets."""
    from bot.training.rounds import freeze, retire

    knowledge = default_knowledge_dir()
    data = knowledge.parent / "tests" / "data"
    try:
        if arguments.command == "retire":
            lines = retire(data, arguments.note)
        else:
            lines = freeze(arguments.incoming, data, knowledge, arguments.note)
    except ValueError as error:
        print(f"python -m bot.training {arguments.command}: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines) or "no frozen test set to retire")
    return 0


# Where the article sits beside a checkout of this repository (it is not copied into it).
ARTICLE = Path("../shared/source/ketamine-for-ptsd-article.txt")


def _writers(arguments: argparse.Namespace) -> int:
    """``brief`` or ``assemble``: the fresh writers' side of a new round."""
    from bot.knowledge import load_knowledge
    from bot.training.briefs import assemble, write_briefs

    knowledge_dir = default_knowledge_dir()
    repository = knowledge_dir.parent
    knowledge = load_knowledge(knowledge_dir, answer_check=False, check_training=False)
    try:
        if arguments.command == "brief":
            article = arguments.article or repository / ARTICLE
            lines = write_briefs(repository, knowledge, arguments.folder, article)
        else:
            lines = assemble(repository, knowledge, arguments.folder)
    except ValueError as error:
        print(f"python -m bot.training {arguments.command}: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bot.training")
    commands = parser.add_subparsers(dest="command", required=True)
    split_parser = commands.add_parser("split", help="split a new corpus once")
    split_parser.add_argument("incoming", type=Path)
    split_parser.add_argument("folder", type=Path)
    add_parser = commands.add_parser("add", help="append new messages to a corpus's train split")
    add_parser.add_argument("incoming", type=Path)
    add_parser.add_argument("folder", type=Path)
    train_parser = commands.add_parser("train", help="retrain the safety screen from the corpora")
    train_parser.add_argument(
        "--folds",
        type=int,
        default=3,
        help="out-of-fold rounds (default 3; 0: one fine-tune, then the heads are refitted)",
    )
    train_parser.add_argument(
        "--epochs", type=int, default=Recipe.epochs, help="fine-tuning epochs"
    )
    retire_parser = commands.add_parser(
        "retire", help="move the scored frozen test sets into the retired files"
    )
    retire_parser.add_argument("note", help="what the sets were and when they were scored")
    freeze_parser = commands.add_parser(
        "freeze", help="write fresh test sets as the frozen ones, minus repeats"
    )
    freeze_parser.add_argument("incoming", type=Path, help="folder with the fresh *-test.yaml")
    freeze_parser.add_argument("note", help="who wrote them, from what, before which change")
    brief_parser = commands.add_parser(
        "brief", help="write the fresh writers' briefs for a new round into a folder"
    )
    brief_parser.add_argument("folder", type=Path, help="a new folder outside the repository")
    brief_parser.add_argument(
        "--article", type=Path, default=None, help=f"the article (default: {ARTICLE})"
    )
    assemble_parser = commands.add_parser(
        "assemble", help="check the writers' files and write the fresh sets freeze reads"
    )
    assemble_parser.add_argument("folder", type=Path, help="the folder brief wrote")
    references_parser = commands.add_parser(
        "references", help="record the exported encoder's reference vectors (no retraining)"
    )
    references_parser.add_argument(
        "--knowledge", type=Path, default=None, help="knowledge folder (default: the shipped one)"
    )
    refit_parser = commands.add_parser(
        "refit", help="refit the detectors' heads on the shipped encoder (minutes, no torch)"
    )
    refit_parser.add_argument(
        "--knowledge", type=Path, default=None, help="knowledge folder (default: the shipped one)"
    )
    refit_parser.add_argument(
        "--detector",
        dest="detectors",
        action="append",
        choices=[*DETECTORS, ANSWER_CHECK],
        help="refit only this model (repeatable; default: all)",
    )
    refit_parser.add_argument("--folds", type=int, default=5, help="out-of-fold rounds (default 5)")
    arguments = parser.parse_args(argv)
    if arguments.command == "split":
        return split(arguments.incoming, arguments.folder)
    if arguments.command == "add":
        return add(arguments.incoming, arguments.folder)
    if arguments.command == "refit":
        knowledge = arguments.knowledge or default_knowledge_dir()
        names = arguments.detectors or [*DETECTORS, ANSWER_CHECK]
        return refit(knowledge, names, arguments.folds)
    if arguments.command in ("retire", "freeze"):
        return _round(arguments)
    if arguments.command in ("brief", "assemble"):
        return _writers(arguments)
    if arguments.command == "references":
        return references(arguments.knowledge or default_knowledge_dir())
    return train(arguments.folds, arguments.epochs)


if __name__ == "__main__":
    sys.exit(main())
