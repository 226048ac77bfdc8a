"""Group near-identical wordings of unanswered questions, so the queue shows what to add.

Members ask the same missing question in slightly different ways ("does ketamine help
nightmares?", "does ketamine help with nightmares"); counted apart, none of them would rise to
the top of the queue. Grouping is leader clustering: the most frequent wording founds a group
and every wording close enough to it (rapidfuzz, on normalized text) joins that group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.normalize import normalize

SIMILAR_AT = 85.0
"""rapidfuzz ``token_sort_ratio`` (0-100) at which two wordings count as one question.

High on purpose: the queue tells moderators which question to add, so two different
questions merged would hide one; a duplicate group left apart only costs a line.
"""


@dataclass(frozen=True)
class UnansweredGroup:
    """One question the bot could not answer, however members worded it."""

    example: str
    """The most frequent wording, as a member typed it (mentions, links, numbers redacted)."""
    count: int
    """How many times it was asked in the period, all wordings together."""
    wordings: int
    """How many different wordings (after normalization) were grouped."""


@dataclass
class _Wording:
    key: str
    count: int
    example: str
    example_count: int


@dataclass
class _Group:
    leader: _Wording
    count: int = 0
    wordings: int = 0


def _merge_same_wordings(asked: Iterable[tuple[str, int]]) -> list[_Wording]:
    """Fold texts that normalize alike; keep the most frequent spelling as the example."""
    merged: dict[str, _Wording] = {}
    for text, count in asked:
        key = normalize(text)
        if not key:
            continue
        wording = merged.get(key)
        if wording is None:
            merged[key] = _Wording(key, count, text, count)
            continue
        wording.count += count
        if (-count, text) < (-wording.example_count, wording.example):  # ties: stable order
            wording.example, wording.example_count = text, count
    return sorted(merged.values(), key=lambda wording: (-wording.count, wording.key))


def group_wordings(
    asked: Iterable[tuple[str, int]],
    *,
    limit: int | None = None,
    similar_at: float = SIMILAR_AT,
) -> list[UnansweredGroup]:
    """Group ``(text, times asked)`` pairs; the biggest groups first, at most ``limit``."""
    groups: list[_Group] = []
    leader_keys: list[str] = []
    for wording in _merge_same_wordings(asked):
        # token_sort_ratio is ratio on sorted words; sorting each key once here instead of
        # in every comparison makes a queue of 5,000 different wordings group in about 1 s.
        sorted_key = " ".join(sorted(wording.key.split()))
        match = process.extractOne(
            sorted_key, leader_keys, scorer=fuzz.ratio, processor=None, score_cutoff=similar_at
        )
        if match is None:
            group = _Group(wording)
            groups.append(group)
            leader_keys.append(sorted_key)
        else:
            group = groups[match[2]]
        group.count += wording.count
        group.wordings += 1
    groups.sort(key=lambda group: (-group.count, group.leader.key))
    chosen = groups if limit is None else groups[: max(limit, 0)]
    return [
        UnansweredGroup(example=group.leader.example, count=group.count, wordings=group.wordings)
        for group in chosen
    ]
