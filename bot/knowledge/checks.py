"""Rules that span files: ids, source references and phrasings that collide."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.synonyms import Canonicalizer
from bot.knowledge.problems import Problem
from bot.knowledge.schema import EntryFile, NotCoveredFile, SafetyFile, SourcesFile
from bot.knowledge.yamlfile import YamlDocument

NEAR_DUPLICATE_AT = 92.0


@dataclass(frozen=True)
class LoadedEntries:
    """An entries file with the document it came from, so checks can name lines."""

    document: YamlDocument
    content: EntryFile


def check_sources(document: YamlDocument, sources: SourcesFile) -> list[Problem]:
    """Two sources with one id would make citations ambiguous."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, source in enumerate(sources.sources):
        if source.id in seen:
            line = document.line_of(("sources", index, "id"))
            problems.append(Problem(document.label, line, f"source id '{source.id}' is used twice"))
        seen.add(source.id)
    return problems


def check_entries(files: list[LoadedEntries], source_ids: set[str]) -> list[Problem]:
    """Every id unique, every cited source known."""
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for loaded in files:
        document = loaded.document
        for index, entry in enumerate(loaded.content.entries):
            where = ("entries", index)
            if entry.id in first_seen:
                problems.append(
                    Problem(
                        document.label,
                        document.line_of((*where, "id")),
                        f"entry id '{entry.id}' is already used in {first_seen[entry.id]}",
                    )
                )
            else:
                first_seen[entry.id] = document.label
            for position, source_id in enumerate(entry.sources):
                if source_id not in source_ids:
                    problems.append(
                        Problem(
                            document.label,
                            document.line_of((*where, "sources", position)),
                            f"entry '{entry.id}' cites unknown source '{source_id}'"
                            " (add it to sources.yaml or fix the id)",
                        )
                    )
    return problems


def check_phrasings(files: list[LoadedEntries], canonicalizer: Canonicalizer) -> list[Problem]:
    """The same wording in two entries leaves the matcher guessing: flag it, and near misses."""
    keys: list[str] = []
    owners: list[tuple[str, str, int, str]] = []  # entry id, file, line, original text
    problems: list[Problem] = []
    for loaded in files:
        document = loaded.document
        for index, entry in enumerate(loaded.content.entries):
            wordings = [(("question",), entry.question)] + [
                (("phrasings", position), text) for position, text in enumerate(entry.phrasings)
            ]
            seen_here: set[str] = set()
            for location, text in wordings:
                key = canonicalizer.key(text)
                line = document.line_of(("entries", index, *location))
                if not key:
                    problems.append(
                        Problem(document.label, line, f"'{text}' has no words the bot can match")
                    )
                    continue
                if key in seen_here:
                    problems.append(
                        Problem(
                            document.label, line, f"'{text}' repeats another phrasing of this entry"
                        )
                    )
                    continue
                seen_here.add(key)
                keys.append(key)
                owners.append((entry.id, document.label, line, text))
    # fuzz.ratio >= NEAR_DUPLICATE_AT is impossible between strings whose lengths differ by
    # more than this share, so each key is compared only with keys of similar length.
    stretch = (200 - NEAR_DUPLICATE_AT) / NEAR_DUPLICATE_AT
    order = sorted(range(len(keys)), key=lambda index: len(keys[index]))
    by_length = [keys[index] for index in order]
    lengths = [len(key) for key in by_length]
    for position, i in enumerate(order):
        end = bisect.bisect_right(lengths, lengths[position] * stretch)
        window = order[position + 1 : end]
        for _, score, offset in process.extract(
            keys[i],
            by_length[position + 1 : end],
            scorer=fuzz.ratio,
            score_cutoff=NEAR_DUPLICATE_AT,
            limit=None,
        ):
            first, second = sorted((i, window[offset]))
            if owners[first][0] == owners[second][0]:
                continue
            entry_id, label, line, text = owners[second]
            other_id, other_label, other_line, other_text = owners[first]
            kind = "is the same as" if score == 100 else "is nearly the same as"
            problems.append(
                Problem(
                    label,
                    line,
                    f"'{text}' (entry '{entry_id}') {kind} '{other_text}' "
                    f"(entry '{other_id}', {other_label}:{other_line}); make them distinct",
                )
            )
    return problems


def check_safety(document: YamlDocument, safety: SafetyFile, entry_ids: set[str]) -> list[Problem]:
    """An advice topic may offer a related entry; it has to exist.

    Topic ids stay apart from entry ids: a check-in's "No" button carries either one.
    """
    problems: list[Problem] = []
    for index, topic in enumerate(safety.advice.topics):
        if topic.id in entry_ids:
            line = document.line_of(("advice", "topics", index, "id"))
            problems.append(
                Problem(document.label, line, f"id '{topic.id}' is already used by an entry")
            )
        if topic.related_entry and topic.related_entry not in entry_ids:
            line = document.line_of(("advice", "topics", index, "related_entry"))
            problems.append(
                Problem(
                    document.label,
                    line,
                    f"related_entry '{topic.related_entry}' is not an entry id",
                )
            )
    return problems


def check_not_covered(
    document: YamlDocument, not_covered: NotCoveredFile, entry_ids: set[str]
) -> list[Problem]:
    """Topic ids apart from entry ids and from each other; every closest entry real."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, topic in enumerate(not_covered.topics):
        if topic.id in entry_ids or topic.id in seen:
            line = document.line_of(("topics", index, "id"))
            problems.append(Problem(document.label, line, f"id '{topic.id}' is already used"))
        seen.add(topic.id)
        for position, entry_id in enumerate(topic.closest):
            if entry_id not in entry_ids:
                line = document.line_of(("topics", index, "closest", position))
                problems.append(
                    Problem(document.label, line, f"closest '{entry_id}' is not an entry id")
                )
    return problems
