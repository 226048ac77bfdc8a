"""A new round of frozen test sets: retire the scored ones, freeze the fresh ones.

A test set is scored once per change; when its figure disappoints, it becomes development
data (its misses may guide new training wordings) and a set written afresh replaces it
(``../shared/EVALUATION.md``). Both steps are mechanical and easy to get subtly wrong by
hand (a message lost in the move, a fresh message that nearly repeats one seen before), so
they are commands: ``python -m bot.training retire NOTE`` and ``freeze INCOMING``.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections.abc import Iterable
from pathlib import Path

from bot.knowledge.yamlfile import load_data, parse_data
from bot.training.corpus import fold, knowledge_wordings
from bot.training.split import near_repeat_pairs, near_repeats

# Each frozen set, the retired file it joins once scored, and what the fresh one is called
# in an incoming folder.
ROUND = (
    ("safety/test.yaml", "safety/retired-test.yaml", "safety-test.yaml"),
    ("safety/everyday-test.yaml", "safety/retired-everyday.yaml", "everyday-test.yaml"),
    ("advice/test.yaml", "advice/retired-test.yaml", "advice-test.yaml"),
    ("questions/test.yaml", "questions/retired-test.yaml", "questions-test.yaml"),
)


def text_values(node: object) -> list[str]:
    """Every string in a loaded YAML document, in order: what a leak check compares."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in text_values(value)]
    if isinstance(node, list):
        return [text for value in node for text in text_values(value)]
    return []


def questions_body(groups: dict[str, list[str]]) -> str:
    """A questions file's body: labels as mapping keys, one double-quoted question a line."""
    return "questions:\n" + "\n".join(
        f"  {label}:\n" + "".join(f"    - {json.dumps(q, ensure_ascii=False)}\n" for q in texts)
        for label, texts in groups.items()
        if texts
    )


def messages_body(messages: Iterable[dict[str, str]]) -> str:
    """A messages file's body: each message's text (double-quoted), label and category."""
    return "messages:\n" + "".join(
        f"- text: {json.dumps(m['text'], ensure_ascii=False)}\n"
        f"  label: {m['label']}\n  category: {m['category']}\n"
        for m in messages
    )


def _comment(text: str) -> str:
    """``text`` as YAML comment lines, each paragraph wrapped to fit the files' width."""
    lines = [wrapped for line in text.splitlines() for wrapped in textwrap.wrap(line, 96) or [""]]
    return "".join(f"# {line}\n" for line in lines)


def retire(data: Path, note: str, today: dt.date | None = None) -> list[str]:
    """Append every frozen set to its retired file, unchanged, then remove the frozen file.

    Returns what was moved, one line per set. Nothing is lost: the retired file must then
    hold exactly its old messages and the frozen set's, or nothing is written at all.
    """
    day = (today or dt.date.today()).isoformat()
    header = _comment(f"--- Added {day}: {note}")
    writes: dict[Path, tuple[Path, str]] = {}
    moved = []
    for frozen_name, retired_name, _ in ROUND:
        frozen, retired = data / frozen_name, data / retired_name
        if not frozen.is_file():
            continue
        old, new = load_data(retired) if retired.is_file() else {}, load_data(frozen)
        if "questions" in new:
            groups = {label: list(texts) for label, texts in (old.get("questions") or {}).items()}
            for label, texts in new["questions"].items():
                groups.setdefault(label, []).extend(texts)
            kept_header = "".join(
                line
                for line in (
                    retired.read_text(encoding="utf-8") if retired.is_file() else ""
                ).splitlines(keepends=True)
                if line.startswith("#")
            )
            text = kept_header + header + questions_body(groups)
            expected = sum(map(len, (old.get("questions") or {}).values())) + sum(
                map(len, new["questions"].values())
            )
            count = sum(map(len, parse_data(text)["questions"].values()))
        else:
            body = ("\n" + frozen.read_text(encoding="utf-8")).partition("\nmessages:\n")[2]
            before = retired.read_text(encoding="utf-8") if retired.is_file() else "messages:\n"
            text = before.rstrip("\n") + "\n" + header + body
            expected = len(old.get("messages") or []) + len(new.get("messages") or [])
            count = len(parse_data(text)["messages"])
        if count != expected:
            raise ValueError(f"{retired_name} would hold {count} items, not {expected}")
        writes[retired] = (frozen, text)
        moved.append(f"{frozen_name} -> {retired_name}: now {count} items")
    for retired, (frozen, text) in writes.items():
        retired.write_text(text, encoding="utf-8")
        frozen.unlink()
    return moved


ADDED = "# --- Added "  # the line ``retire`` writes above each round it appends


def retired_rounds(path: Path) -> list[list[dict[str, object]]]:
    """A retired messages file cut back into its rounds, oldest first.

    ``retire`` appends each round whole under its own ``# --- Added`` line, so a band can
    be checked the way a fresh round meets it: chosen on the other rounds, measured on the
    one left out (``benchmarks/held_out_rounds.py``).
    """
    chunks: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith(ADDED) and any(not row.startswith("#") for row in chunks[-1]):
            chunks.append([])
        chunks[-1].append(line)
    rounds = []
    for chunk in chunks:
        items = "".join(line for line in chunk if line != "messages:\n")
        rounds.append(list(parse_data("messages:\n" + items).get("messages") or []))
    return rounds


def _items(fresh: dict[str, object]) -> list[str]:
    """A fresh set's questions (label by label) or message texts, in the order written."""
    if "questions" in fresh:
        return [q for texts in fresh["questions"].values() for q in texts]
    return [str(m["text"]) for m in fresh.get("messages") or []]


# A knowledge wording of at least this many words standing inside a fresh item gives the
# matcher that item's answer: as good as a repeat, though no near-repeat check sees it.
MIN_WORDS_INSIDE = 3


def _holds_a_wording(folded: str, wordings: set[str], longest: int) -> bool:
    """Whether some run of ``MIN_WORDS_INSIDE`` or more of the item's words is a wording."""
    words = folded.split()
    return any(
        " ".join(words[start:end]) in wordings
        for start in range(len(words))
        for end in range(start + MIN_WORDS_INSIDE, min(len(words), start + longest) + 1)
    )


def _fresh_verdicts(fresh: list[str], seen: list[str], wordings: set[str]) -> list[bool]:
    """Whether to keep each folded fresh item, in order.

    An item goes if it is empty, if it (nearly) repeats anything ``seen``, if a knowledge
    wording (folded, of ``MIN_WORDS_INSIDE`` words or more) stands inside it, or if it
    nearly repeats an earlier fresh item that was kept.
    """
    longest = max((len(wording.split()) for wording in wordings), default=0)
    near_seen = set(seen) | near_repeats(fresh, seen)
    near_seen |= {item for item in fresh if item and _holds_a_wording(item, wordings, longest)}
    earlier: dict[int, list[int]] = {}
    for row, column in near_repeat_pairs(fresh, fresh):
        if column < row:
            earlier.setdefault(row, []).append(column)
    kept: set[int] = set()
    for index, folded in enumerate(fresh):
        if folded and folded not in near_seen and not kept.intersection(earlier.get(index, ())):
            kept.add(index)
    return [index in kept for index in range(len(fresh))]


def freeze(
    incoming: Path, data: Path, knowledge: Path, note: str, today: dt.date | None = None
) -> list[str]:
    """Write the fresh sets in ``incoming`` as the frozen ones, minus repeats.

    A fresh message that equals or nearly equals (folded; rapidfuzz ``token_sort_ratio`` at
    ``NEAR_DUPLICATE``) anything in ``data`` or ``knowledge``, or an earlier fresh message,
    or that holds a knowledge wording of ``MIN_WORDS_INSIDE`` words or more, is deleted,
    never reworded; the count goes into the file's header. Refuses to overwrite
    a frozen set: retire it first.
    """
    day = (today or dt.date.today()).isoformat()
    pairs = [
        (data / frozen, incoming / fresh)
        for frozen, _, fresh in ROUND
        if (incoming / fresh).is_file()
    ]
    if not pairs:
        raise ValueError(f"{incoming} holds none of {[fresh for _, _, fresh in ROUND]}")
    for target, _ in pairs:
        if target.exists():
            raise ValueError(f"{target} exists: retire it first (python -m bot.training retire)")
    seen_files = [*data.glob("*/*.yaml"), *knowledge.glob("*.yaml"), *knowledge.glob("*/*.yaml")]
    seen = sorted({fold(t) for path in seen_files for t in text_values(load_data(path)) if fold(t)})
    freshes = [(target, load_data(source)) for target, source in pairs]
    # one verdict per item, consumed below in the order _items lists them
    wordings = {
        folded
        for wording in knowledge_wordings(knowledge)
        if len((folded := fold(wording)).split()) >= MIN_WORDS_INSIDE
    }
    items = [fold(t) for _, f in freshes for t in _items(f)]
    verdicts = iter(_fresh_verdicts(items, seen, wordings))
    report = []
    for target, fresh in freshes:
        if "questions" in fresh:
            groups = {
                label: [q for q in texts if next(verdicts)]
                for label, texts in fresh["questions"].items()
            }
            total = sum(map(len, fresh["questions"].values()))
            written = sum(map(len, groups.values()))
            body = questions_body(groups)
        else:
            messages = [m for m in fresh.get("messages") or [] if next(verdicts)]
            total, written = len(fresh.get("messages") or []), len(messages)
            body = messages_body(messages)
        header = _comment(
            f"FROZEN, written {day}: {note}\n"
            "Never tune on it, never train on it, never add to it.\n"
            f"Before any scoring, {total - written} of {total} written items that equalled or "
            "nearly equalled one seen before (or an earlier one of this round), or held a "
            "knowledge wording, were deleted, "
            "not reworded."
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + body, encoding="utf-8")
        report.append(f"{target}: {written} of {total} kept")
    return report
