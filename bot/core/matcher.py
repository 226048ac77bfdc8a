"""Find the entry a question is about, over every phrasing of every entry.

Two views of likeness are blended. rapidfuzz compares the wordings as strings,
which forgives typos and word order. A weighted word overlap (rarer words count
more) keeps long, rambling questions from being punished for their extra words,
and gives nothing to questions whose words the knowledge base never uses.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz import fuzz, process

from bot.core.normalize import normalize
from bot.core.phrases import TypoCorrector
from bot.core.synonyms import Canonicalizer, stem

MAX_QUERY_WORDS = 60
MIN_TYPO_LENGTH = 6
MAX_CANDIDATES = 60
COMMON_POSTINGS = 1_500  # a word in more phrasings than this only re-scores candidates
# A word the knowledge base never uses weighs as much as a rare one: "how to get better at
# chess" must not become a study figure because "better" is known. Chosen on the dev set
# (4, 6 and 8 tried; 6 and 8 answered the same share, 4 a little less).
UNKNOWN_WORD_WEIGHT = 6.0
LEXICAL_SHARE = 0.5
ENTRY_SHARE = 0.5
# The rarity weight of a word in at least half of the entries: log(1 + total / count).
COMMON_WORD_WEIGHT = math.log(1 + 2)
INFORMATION_FLOOR = 5.0  # a question must carry this much word weight to score fully
# A long message (a story, then the question) is scored as if it weighed at most this much,
# about an eight-word question: otherwise its story words dilute every entry's score and
# the right entry, though ranked first, never reaches a band. Chosen on the dev set (no cap,
# 40, 30, 25 and 20 tried; 20 to 30 were best and alike). Rechecked on both dev sets (dev
# and the retired test split, 774 in-scope questions) once the knowledge base had grown:
# 30, 24, 20 and 16 answered 96.4%, 97.0%, 97.3% and 97.4% right; 16 gave three more
# off-topic questions a confident answer, 20 none, so 20.
QUERY_WEIGHT_CAP = 20.0
# The sentence vector of a long message mostly says what its story is about ("my husband is
# a vet, he tried three SSRIs...") rather than what it asks, so past this many words the
# share of meaning in the blend shrinks in proportion (50 words: half). On both dev sets'
# in-scope messages of more than 25 words, the meaning's first entry was right for 20 of 50
# and the shared words' first entry for 38; with the shrinking, 42 of 50 are answered right
# (38 before). 20, 25 and 30 words tried; 25 and 20 alike, 30 one fewer; squaring the
# shrinking gave one more wrong answer to a not-covered question.
LONG_MESSAGE_WORDS = 25


class Matchable(Protocol):
    """An entry, or a topic the article does not cover: both are found the same way."""

    @property
    def id(self) -> str: ...  # noqa: D102
    @property
    def question(self) -> str: ...  # noqa: D102
    @property
    def phrasings(self) -> list[str]: ...  # noqa: D102
    @property
    def answer(self) -> str: ...  # noqa: D102


@dataclass(frozen=True)
class Match:
    """An entry and how alike the question is to its closest phrasing (0-100)."""

    entry_id: str
    score: float


class Matcher:
    """An index of canonical phrasings; ``rank`` returns the best entries for a question."""

    def __init__(self, entries: Iterable[Matchable], canonicalizer: Canonicalizer) -> None:
        self._canonicalizer = canonicalizer
        self._keys: list[str] = []
        self._words: list[frozenset[str]] = []
        self._owners: list[str] = []
        self._exact: dict[str, str] = {}  # a wording, normalized -> its entry or topic
        entry_words: dict[str, set[str]] = defaultdict(set)
        surface: set[str] = set()  # the words as written, before their endings are folded
        for entry in entries:
            for wording in (entry.question, *entry.phrasings):
                normalized, key = self._read(wording, surface)
                if key:
                    words = frozenset(key.split())
                    self._keys.append(key)
                    self._words.append(words)
                    self._owners.append(entry.id)
                    self._exact.setdefault(normalized, entry.id)
                    entry_words[entry.id] |= words
            entry_words[entry.id] |= set(self._read(entry.answer, surface)[1].split())
        # Rarity is counted per entry, not per phrasing, so a word an entry repeats in
        # all its phrasings is not mistaken for a common one.
        document_frequency: dict[str, int] = defaultdict(int)
        for words in entry_words.values():
            for word in words:
                document_frequency[word] += 1
        total = max(1, len(entry_words))
        self._weight = {
            word: math.log(1 + total / count) for word, count in document_frequency.items()
        }
        self._entry_words = {entry_id: frozenset(words) for entry_id, words in entry_words.items()}
        self._rarest = math.log(1 + total)  # a word in one entry: what an unknown word weighs
        self._phrasing_weight = [sum(self._weight[word] for word in words) for words in self._words]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, words in enumerate(self._words):
            for word in words:
                self._postings[word].append(index)
        # A typo is corrected towards the words as written too, then folded: "hyperarousel"
        # is one letter from "hyperarousal" but two from its folded form "hyperarous". Only
        # long folded forms: "router" is one letter from "routes", yet no typo of "route".
        self._folded = {
            word: folded
            for word in surface
            if (folded := stem(word)) != word
            and len(folded) >= MIN_TYPO_LENGTH
            and folded in self._weight
        }
        self._corrector = TypoCorrector(
            [*self._weight, *self._folded], self._weight, min_length=MIN_TYPO_LENGTH
        )

    def _read(self, text: str, surface: set[str]) -> tuple[str, str]:
        """A text normalized and as its key, its canonical words added to ``surface``."""
        reading = self._canonicalizer.read(text)
        surface.update(reading.canonical.split())
        return reading.normalized, reading.key

    def query_key(self, normalized: str) -> str:
        """The question in the form phrasings are indexed in, typos corrected."""
        words = normalized.split()[:MAX_QUERY_WORDS]
        canonical = self._canonicalizer.canonical(" ".join(words))
        return " ".join(map(self._known_form, self._canonicalizer.surface_words(canonical)))

    def _known_form(self, word: str) -> str:
        """One content word as the index knows it: folded, chat spelling and typos mended.

        A typo is tried on the folded word, then on the word as typed: "neuroplastisity"
        folds to "neuroplastis", two letters from "neuroplast", yet is one letter from the
        written "neuroplasticity".
        """
        folded = self._dropped_g(stem(word))
        if folded in self._weight:
            return folded
        corrected = self._corrector.correct(folded)
        if corrected == folded:
            corrected = self._corrector.correct(word)
            if corrected == word:
                return folded
        return self._folded.get(corrected, corrected)

    def _dropped_g(self, word: str) -> str:
        """Chat spelling "workin", "startin": the word with its "-ing", when only that is known.

        Too short for the typo corrector ("work" has four letters), and common enough in
        members' messages to be worth its own rule.
        """
        if word in self._weight or len(word) < 5 or not word.endswith("in"):
            return word
        full = stem(word + "g")
        return full if full in self._weight else word

    def _weigh(self, normalized: str) -> tuple[str, set[str], float]:
        """The question's key, its words the base knows, and the weight of all its words."""
        query = self.query_key(normalized)
        words = set(query.split())
        known = {word for word in words if word in self._weight}
        # Words the knowledge base never uses still count against a match, gently:
        # "what is ibogaine" must not become "what is this bot?" because one word is known.
        weight = sum(self._weight[word] for word in known) + UNKNOWN_WORD_WEIGHT * len(
            words - known
        )
        return query, known, weight

    def written_for(self, normalized: str) -> str | None:
        """The entry or topic that has this very question among its wordings, if any.

        A moderator who files a phrasing under an entry has said what it should get.
        """
        return self._exact.get(normalized)

    def says_too_little(self, normalized: str) -> bool:
        """A bare word most entries use ("ketamine", "ptsd"): it names no one entry.

        Such a message gets a choice of entries, never an answer, however close in meaning
        one of them comes; a rare bare word ("nmda", "esketamine") still picks its entry.
        """
        words = self.query_key(normalized).split()
        return len(words) == 1 and self._weight.get(words[0], math.inf) <= COMMON_WORD_WEIGHT

    def information(self, normalized: str) -> float:
        """How far the question's meaning may steer its score, 0 to 1.

        It says little below ``INFORMATION_FLOOR`` of word weight: "ketamine" alone (a word in
        nearly every entry) says little, "nmda?" a lot. Past ``LONG_MESSAGE_WORDS`` words the
        message is mostly story, and its sentence vector with it.
        """
        said = min(1.0, self._weigh(normalized)[2] / INFORMATION_FLOOR)
        length = len(normalized.split())
        if length > LONG_MESSAGE_WORDS:
            said *= LONG_MESSAGE_WORDS / length
        return said

    def coverage(self, normalized: str, entry_ids: Sequence[str]) -> list[tuple[float, ...]]:
        """For each entry, how much of the question its own words (wordings and answer) explain.

        A question that repeats an entry's facts to ask a detail the article never gives
        ("the shot goes in a muscle, but which one, arm or thigh") shares most of its words
        with the entry, and its rarest word with none. Per entry: the share of the question's
        word weight the entry uses, the weight of the rarest word it does not, and how many
        words no entry uses at all (the same for every entry).
        """
        words = set(self.query_key(normalized).split())
        weights = {word: self._weight.get(word, self._rarest) for word in words}
        total = sum(weights.values()) or 1.0
        unknown = float(sum(word not in self._weight for word in words))
        rows = []
        for entry_id in entry_ids:
            own = self._entry_words.get(entry_id, frozenset())
            covered = sum(weight for word, weight in weights.items() if word in own)
            missing = max(
                (weight for word, weight in weights.items() if word not in own), default=0.0
            )
            rows.append((covered / total, missing, unknown))
        return rows

    def rank(self, normalized: str, limit: int) -> list[Match]:
        """The ``limit`` best entries for a normalized question, best first."""
        query, known, query_weight = self._weigh(normalized)
        if not known:
            return []
        query_weight = min(query_weight, QUERY_WEIGHT_CAP)  # scores are clamped to 100 below
        shared = self._shared_weight(known)
        # The F1 of "how much of the phrasing the question says" (overlap / phrasing weight)
        # and "how much of the question the phrasing explains" (overlap / question weight)
        # reduces to 2 * overlap / (phrasing weight + question weight).
        phrasing_weight = self._phrasing_weight
        lexical_scores = {
            index: min(100.0, 200 * overlap / (phrasing_weight[index] + query_weight))
            for index, overlap in shared.items()
        }
        shortlist = heapq.nlargest(MAX_CANDIDATES, lexical_scores, key=lexical_scores.__getitem__)
        likeness = process.extract(
            query,
            [self._keys[index] for index in shortlist],
            scorer=fuzz.token_sort_ratio,
            limit=None,
        )
        best: dict[str, float] = {}
        topical_by_owner: dict[str, float] = {}
        for _, fuzzy, position in likeness:
            index = shortlist[position]
            owner = self._owners[index]
            topical = topical_by_owner.get(owner)
            if topical is None:
                shared_with_entry = known & self._entry_words[owner]
                topical = min(
                    100.0,
                    100
                    * sum(self._weight[word] for word in shared_with_entry)
                    / max(query_weight, INFORMATION_FLOOR),
                )
                topical_by_owner[owner] = topical
            wording = LEXICAL_SHARE * lexical_scores[index] + (1 - LEXICAL_SHARE) * fuzzy
            score = (1 - ENTRY_SHARE) * wording + ENTRY_SHARE * topical
            if score > best.get(owner, -1.0):
                best[owner] = score
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:limit]
        return [Match(entry_id, score) for entry_id, score in ranked]

    def _shared_weight(self, known: set[str]) -> dict[int, float]:
        """Weight each phrasing shares with the question, for phrasings worth scoring.

        Rare words find the candidates; a very common word ("ketamine" in a large base)
        only adds to candidates already found, so its long postings list is never walked.
        """
        shared: dict[int, float] = defaultdict(float)
        rare_first = sorted(known, key=lambda word: len(self._postings[word]))
        for word in rare_first:
            weight = self._weight[word]
            postings = self._postings[word]
            if shared and len(postings) > COMMON_POSTINGS:
                for index in shared:
                    if word in self._words[index]:
                        shared[index] += weight
            else:
                for index in postings:
                    shared[index] += weight
        return shared

    def complete(self, partial: str, questions: dict[str, str], limit: int) -> list[str]:
        """Entry ids whose question best fits what a member has typed so far."""
        typed = normalize(partial)
        if not typed:
            return list(questions)[:limit]
        found = process.extract(
            typed, questions, scorer=fuzz.partial_ratio, processor=normalize, limit=limit
        )
        return [entry_id for _, _, entry_id in found]
