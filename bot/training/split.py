"""The one seeded rule that put each corpus message in train, dev or test.

Near-duplicates (the same message with a word changed) are kept in one split, or the
test figure would measure memory; each group goes where a seeded hash of its first
member's folded text sends it. Run once when a corpus is first written; later
messages are added to train or dev by hand, never to a frozen test split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from bot.training.corpus import Labelled, fold

SEED = "ketamine-bot-2026-11-30"
SHARES = (("train", 0.6), ("dev", 0.2), ("test", 0.2))
NEAR_DUPLICATE = 88  # token_sort_ratio at which two messages count as one wording


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def near_repeat_pairs(texts: Sequence[str], others: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` where folded ``texts[i]`` nearly repeats folded ``others[j]``.

    ``token_sort_ratio`` is ``ratio`` on sorted words: sorting each text once, not in every
    comparison, and passing the cut-off (so rapidfuzz skips pairs whose lengths rule it out)
    makes a 2,000 by 9,000 comparison take under a second instead of several.
    """
    if not texts or not others:
        return []
    scores = process.cdist(
        [_sorted_words(text) for text in texts],
        [_sorted_words(text) for text in others],
        scorer=fuzz.ratio,
        score_cutoff=NEAR_DUPLICATE,
        dtype=np.uint8,
        workers=-1,
    )
    rows, columns = scores.nonzero()
    return list(zip(rows.tolist(), columns.tolist(), strict=True))


def near_duplicate_groups(texts: Sequence[str]) -> list[int]:
    """A group number per text; texts that nearly repeat each other share one."""
    folded = [fold(text) for text in texts]
    parent = list(range(len(texts)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for row, column in near_repeat_pairs(folded, folded):
        if row < column:
            parent[root(column)] = root(row)
    return [root(index) for index in range(len(texts))]


def near_repeats(texts: Sequence[str], others: Sequence[str]) -> set[str]:
    """The folded ``texts`` that nearly repeat one of the folded ``others``."""
    return {texts[row] for row, _ in near_repeat_pairs(texts, others)}


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
