"""The one seeded rule that put each corpus message in train, dev or test.

Near-duplicates (the same message with a word changed) are kept in one split, or the
test figure would measure memory; each group goes where a seeded hash of its first
member's folded text sends it. Run once when a corpus is first written; later
messages are added to train or dev by hand, never to a frozen test split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from bot.training.corpus import Labelled, fold

SEED = "ketamine-bot-2026-11-30"
SHARES = (("train", 0.6), ("dev", 0.2), ("test", 0.2))
NEAR_DUPLICATE = 88.0  # token_set_ratio at which two messages count as one wording


def near_duplicate_groups(texts: Sequence[str]) -> list[int]:
    """A group number per text; texts that nearly repeat each other share one."""
    folded = [fold(text) for text in texts]
    scores = process.cdist(folded, folded, scorer=fuzz.token_sort_ratio, workers=-1)
    parent = list(range(len(texts)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for row in range(len(texts)):
        for column in range(row + 1, len(texts)):
            if scores[row, column] >= NEAR_DUPLICATE:
                parent[root(column)] = root(row)
    return [root(index) for index in range(len(texts))]


def near_repeats(texts: Sequence[str], others: Sequence[str]) -> set[str]:
    """The folded ``texts`` that nearly repeat one of the folded ``others``."""
    if not texts or not others:
        return set()
    scores = process.cdist(texts, others, scorer=fuzz.token_sort_ratio, workers=-1)
    return {texts[row] for row in (scores >= NEAR_DUPLICATE).any(axis=1).nonzero()[0]}


def assign(text: str, seed: str = SEED) -> str:
    """The split a group goes to, from a seeded hash of its first member's folded text."""
    digest = hashlib.sha256(f"{seed}\0{fold(text)}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    total = 0.0
    for split, share in SHARES:
        total += share
        if position < total:
            return split
    return SHARES[-1][0]


def split_messages(messages: Sequence[Labelled], seed: str = SEED) -> dict[str, list[Labelled]]:
    """Every message in exactly one split; exact repeats (folded) are dropped."""
    unique: dict[str, Labelled] = {}
    for message in messages:
        unique.setdefault(fold(message.text), message)
    kept = list(unique.values())
    groups = near_duplicate_groups([message.text for message in kept])
    splits: dict[str, list[Labelled]] = {split: [] for split, _ in SHARES}
    for message, group in zip(kept, groups, strict=False):
        splits[assign(kept[group].text, seed)].append(message)
    return splits
