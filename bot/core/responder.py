"""The one entry point: a member's message in, a ``Reply`` out.

Order matters and is the product's safety promise: crisis language first (resources,
never an answer), then an uncertain signal (a private check-in that carries the
resources), then personal medical questions (a pointer to a clinician, never a dose),
and only then the knowledge base. ``screen`` and ``finish`` split that in two so a
cooldown can sit between the safety screen and the expensive matching.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from bot.core.answer_check import AnswerCheck, PastQuestions, candidate_features
from bot.core.encoder import SentenceEncoder, encoder_for
from bot.core.matcher import Matcher
from bot.core.normalize import encoder_windows, normalize
from bot.core.ranking import (
    Ranking,
    banded_answer,
    rank,
    settled_before_check,
    shares_words,
)
from bot.core.reply import OTHER, SUPPORT, Choice, Citation, Reply, ReplyKind, Suggestion
from bot.core.safety import Concern, SafetyCheck, SafetyVerdict
from bot.core.semantic import SemanticIndex, VectorCache, cache_dir
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.models import MODELS_FOLDER
from bot.knowledge.schema import AdviceTopic

AUTOCOMPLETE_LIMIT = 25


@dataclass(frozen=True)
class Screened:
    """A message after the safety screen, before any matching."""

    message: str
    normalized: str
    vectors: np.ndarray  # one row per encoder window; no rows for an empty message
    verdict: SafetyVerdict | None

    @property
    def urgent(self) -> bool:
        """Crisis or check-in: answered at once, never held back by a cooldown."""
        return self.verdict is not None and self.verdict.concern is not Concern.ADVICE


class Responder:
    """Answers questions from one immutable knowledge base.

    Build a new ``Responder`` to change knowledge; swapping the reference is atomic.
    """

    def __init__(self, knowledge: KnowledgeBase, encoder: SentenceEncoder | None = None) -> None:
        self.knowledge = knowledge
        self.encoder = encoder or encoder_for(knowledge.directory, knowledge.detectors["crisis"])
        matchable = [*knowledge.entries.values(), *knowledge.not_covered.values()]
        self._matcher = Matcher(matchable, knowledge.canonicalizer)
        self._semantic: SemanticIndex | None = None
        self._known_vectors: dict[str, np.ndarray] = {}
        if knowledge.matching.semantic_share > 0:
            sha = knowledge.detectors["crisis"].encoder.sha256
            cache = VectorCache(cache_dir() / f"wordings-{sha[:16]}.npz")
            wordings = [
                (item.id, text) for item in matchable for text in (item.question, *item.phrasings)
            ]
            vectors = cache.vectors([text for _, text in wordings], self.encoder)
            self._semantic = SemanticIndex([owner for owner, _ in wordings], vectors)
            self._known_vectors = {
                text: row for (_, text), row in zip(wordings, vectors, strict=True)
            }
        known_words = {
            word
            for entry in knowledge.entries.values()
            for text in (entry.question, entry.answer, *entry.phrasings)
            for word in normalize(text).split()
        }
        check = knowledge.answer_check
        self._answer_check = AnswerCheck(check) if check is not None else None
        self._past = None
        if check is not None and check.questions is not None:
            self._past = PastQuestions.load(knowledge.directory / MODELS_FOLDER, check.questions)
        self._safety = SafetyCheck(
            knowledge.safety, knowledge.detectors, known_words, knowledge.directory / MODELS_FOLDER
        )
        replies = knowledge.replies
        self._greetings = {normalize(text) for text in replies.greetings}
        self._source_requests = {normalize(text) for text in replies.sources_requests}
        self._questions = {entry.id: entry.question for entry in knowledge.entries.values()}

    # -- the entry point ---------------------------------------------------------------

    def respond(self, message: str) -> Reply:
        """Turn a member's message into the reply they should read."""
        return self.finish(self.screen(message))

    def screen(self, message: str) -> Screened:
        """Encode the message and run the safety screen: every message, whatever it holds."""
        normalized = normalize(message)
        windows = encoder_windows(message)
        vectors = self._vectors(windows)
        verdict = self._safety.check(normalized, windows, vectors)
        return Screened(message, normalized, vectors, verdict)

    def _vectors(self, windows: list[str]) -> np.ndarray:
        """The windows' sentence vectors; a knowledge wording's is taken from the index.

        The index encoded each wording on its own with this same encoder (kept as float16,
        within 1e-4 of a fresh pass). Every message that equals a wording takes this path,
        a member's as well as ``validate --routes``', so the routes check still sees
        exactly what a member would get, and asking every wording costs no second pass.
        """
        known = [self._known_vectors.get(window) for window in windows]
        if known and all(vector is not None for vector in known):
            return np.stack(known)
        return self.encoder.encode(windows)

    def finish(self, screened: Screened) -> Reply:
        """The reply for a screened message: safety replies first, then the knowledge base."""
        message, verdict = screened.message, screened.verdict
        if verdict is not None and verdict.concern is Concern.CRISIS:
            return self.crisis(message)
        if verdict is not None and verdict.concern is Concern.CHECK_IN:
            if verdict.topic is not None:
                return self.check_in(message, self.advice(message, verdict.topic))
            return self.check_in(message, self.ordinary(screened))
        if verdict is not None and verdict.topic is not None:
            return self.advice(message, verdict.topic)
        return self.ordinary(screened)

    def ordinary(self, screened: Screened) -> Reply:
        """What the knowledge base says, as if no safety concern had been raised."""
        message, normalized = screened.message, screened.normalized
        if not normalized or normalized in self._greetings:
            return self.help(message)
        if normalized in self._source_requests:
            return self.sources(message)
        return self._match(message, normalized, screened.vectors)

    # -- replies by kind ----------------------------------------------------------------

    def answer(self, entry_id: str, question: str = "", score: float | None = None) -> Reply:
        """The reply for one entry (also used when a member picks a suggestion)."""
        entry = self.knowledge.entries[entry_id]
        replies = self.knowledge.replies
        return self._reply(
            question or entry.question,
            ReplyKind.ANSWER,
            title=entry.question,
            body=entry.answer,
            note=entry.caveat,
            note_label=replies.caveat_label if entry.caveat else None,
            citations=tuple(self._citation(source_id) for source_id in entry.sources),
            citations_label=replies.sources_label,
            entry_id=entry.id,
            score=score,
        )

    def crisis(self, question: str = "") -> Reply:
        """Resources first, a plain word that this is not a crisis service, nothing else."""
        crisis = self.knowledge.safety.crisis
        return self._reply(
            question,
            ReplyKind.CRISIS,
            title=crisis.title,
            body=crisis.message,
            items=tuple(crisis.resources),
        )

    def check_in(self, question: str, ordinary: Reply) -> Reply:
        """Ask, kindly and privately, with the resources already there.

        ``entry_id`` carries the entry the member would otherwise have been answered
        with (or, for a personal medical question, its advice topic), so "No, I was
        asking about something else" can give that reply.
        """
        check_in = self.knowledge.safety.check_in
        return self._reply(
            question,
            ReplyKind.CHECK_IN,
            title=check_in.title,
            body=check_in.message,
            items=tuple(self.knowledge.safety.crisis.resources),
            question_prompt=check_in.question,
            choices=(Choice(SUPPORT, check_in.yes_button), Choice(OTHER, check_in.no_button)),
            entry_id=_what_no_leads_to(ordinary),
        )

    def after_check_in(self, choice: str, entry_id: str | None) -> Reply:
        """The member's answer to a check-in: the crisis reply, or the ordinary answer."""
        if choice == SUPPORT:
            return self.crisis()
        if entry_id and entry_id in self.knowledge.entries:
            return self.answer(entry_id)
        topic = next((t for t in self.knowledge.safety.advice.topics if t.id == entry_id), None)
        if topic is not None:
            return self.advice("", topic)
        return self.help()

    def advice(self, question: str, topic: AdviceTopic) -> Reply:
        """Why the bot can't advise on this, who can, and a related general entry."""
        advice = self.knowledge.safety.advice
        related = topic.related_entry
        suggestions = (Suggestion(related, self._questions[related]),) if related else ()
        return self._reply(
            question,
            ReplyKind.ADVICE,
            title=advice.title,
            body=f"{topic.why} {advice.pointer}",
            suggestions=suggestions,
            suggestions_label=self.knowledge.replies.related_prompt if suggestions else None,
            topic=topic.id,
        )

    def sources(self, question: str = "") -> Reply:
        """Every source with its link: the same content as ``/ketamine-sources``."""
        replies = self.knowledge.replies
        citations = tuple(self._citation(source_id) for source_id in self.knowledge.sources)
        return self._reply(
            question,
            ReplyKind.SOURCES,
            title=replies.sources_title,
            body=replies.sources,
            items=tuple(citation.full_line for citation in citations),
            citations=citations,
        )

    def help(self, question: str = "") -> Reply:
        """What the bot is and how to ask it."""
        replies = self.knowledge.replies
        return self._reply(question, ReplyKind.HELP, title=replies.help_title, body=replies.help)

    def suggest(self, partial: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Suggestion]:
        """Canonical questions that fit what a member has typed so far (autocomplete)."""
        ids = self._matcher.complete(partial, self._questions, limit)
        return [Suggestion(entry_id, self._questions[entry_id]) for entry_id in ids]

    # -- helpers --------------------------------------------------------------------------

    def _rank(self, normalized: str, vectors: np.ndarray) -> Ranking:
        """The best entries and topics by shared words blended with shared meaning."""
        return rank(
            self._matcher,
            self._semantic,
            normalized,
            vectors,
            self.knowledge.matching.semantic_share,
        )

    def _answerable(self, ranking: Ranking, normalized: str, vectors: np.ndarray) -> str | None:
        """The entry to answer with, or ``None`` to offer choices or say it is not covered.

        With a trained answer check, it decides (and may prefer the second-ranked entry);
        without one, the score bands of ``settings.yaml`` do.
        """
        if self._answer_check is not None:
            best = self._answer_check.best(*self._candidates(ranking, normalized, vectors))
            return best[0] if best and best[1] >= self._answer_check.threshold else None
        return banded_answer(ranking, self.knowledge.matching, self.knowledge.not_covered)

    def _candidates(
        self,
        ranking: Ranking,
        normalized: str,
        vectors: np.ndarray,
        past: PastQuestions | None = None,
        hide_fold: int | None = None,
    ) -> tuple[list[str], np.ndarray]:
        vector = vectors[0] if len(vectors) else None
        past = past or self._past
        rows = None
        if past is not None and vector is not None:
            rows = functools.partial(past.rows, vector, hide_fold=hide_fold)
        return candidate_features(
            ranking,
            self._semantic,
            vector,
            self.knowledge.not_covered,
            len(normalized.split()),
            functools.partial(self._matcher.coverage, normalized),
            rows,
        )

    def answer_features(
        self,
        message: str,
        past: PastQuestions | None = None,
        hide_fold: int | None = None,
        first: np.ndarray | None = None,
    ) -> tuple[list[str], np.ndarray, str | None, str | None]:
        """What the answer check reads for ``message``, for training it, not for replies.

        Also where the message goes when that is settled before the check is asked
        (``settled_before_check``): the check never sees those; and the entry the score
        bands alone would answer with, to compare the two. Training passes the past
        questions it is building, with the message's own fold hidden, and the message's
        ``first_vector`` when it has it already (the ranking reads no other).
        """
        normalized = normalize(message)
        vectors = self._vectors(encoder_windows(message)) if first is None else first[None, :]
        ranking = self._rank(normalized, vectors)
        settled = settled_before_check(
            self._matcher, ranking, self.knowledge.matching, self.knowledge.not_covered, normalized
        )
        banded = banded_answer(ranking, self.knowledge.matching, self.knowledge.not_covered)
        candidates = self._candidates(ranking, normalized, vectors, past, hide_fold)
        return *candidates, settled, banded

    def first_vector(self, message: str) -> np.ndarray:
        """The sentence vector the ranking reads for a message with words (its first window's)."""
        return self._vectors(encoder_windows(message))[0]

    @property
    def wording_vectors(self) -> dict[str, np.ndarray]:
        """Each knowledge wording's sentence vector, as the semantic index holds it."""
        return self._known_vectors

    def _match(self, message: str, normalized: str, vectors: np.ndarray) -> Reply:
        settings = self.knowledge.matching
        ranking = self._rank(normalized, vectors)
        best = ranking.blended[0] if ranking.blended else None
        settled = settled_before_check(
            self._matcher, ranking, settings, self.knowledge.not_covered, normalized
        )
        if settled in self.knowledge.entries:
            return self.answer(settled, message, best.score if best else None)
        if settled in self.knowledge.not_covered:
            return self.not_covered(settled, message, best.score if best else None)
        answer = None if settled == "" else self._answerable(ranking, normalized, vectors)
        if answer is not None:
            score = next(m.score for m in ranking.blended if m.entry_id == answer)
            return self.answer(answer, message, score)
        if best is not None and shares_words(ranking, settings):
            replies = self.knowledge.replies
            suggestions = tuple(
                Suggestion(match.entry_id, self._questions[match.entry_id])
                for match in ranking.blended[: settings.max_suggestions]
                if match.score >= settings.clarify_at and match.entry_id in self._questions
            )
            return self._reply(
                message,
                ReplyKind.CLARIFY,
                title=replies.clarify_title,
                body=replies.clarify,
                suggestions=suggestions,
                score=best.score,
            )
        replies = self.knowledge.replies
        return self._reply(
            message,
            ReplyKind.FALLBACK,
            title=replies.fallback_title,
            body=replies.fallback,
            score=best.score if best else None,
        )

    def not_covered(self, topic_id: str, question: str = "", score: float | None = None) -> Reply:
        """Say plainly that the article does not cover this, and offer what it does cover."""
        topic = self.knowledge.not_covered[topic_id]
        replies = self.knowledge.replies
        suggestions = tuple(
            Suggestion(entry_id, self._questions[entry_id]) for entry_id in topic.closest
        )
        return self._reply(
            question or topic.topic,
            ReplyKind.NOT_COVERED,
            title=replies.not_covered_title,
            body=replies.not_covered.replace("{topic}", topic.topic),
            suggestions=suggestions,
            suggestions_label=replies.related_prompt if suggestions else None,
            topic=topic.id,
            score=score,
        )

    def _citation(self, source_id: str) -> Citation:
        source = self.knowledge.sources[source_id]
        return Citation(source.id, source.short, source.reference, source.link, source.note)

    def _reply(self, question: str, kind: ReplyKind, **parts: object) -> Reply:
        """Every reply goes through here, so none can leave without the disclaimer."""
        return Reply(
            question=question,
            kind=kind,
            disclaimer=self.knowledge.replies.disclaimer,
            **parts,  # type: ignore[arg-type]
        )


def _what_no_leads_to(ordinary: Reply) -> str | None:
    """The entry, or advice topic, a check-in's "No" button gives."""
    if ordinary.kind is ReplyKind.ANSWER:
        return ordinary.entry_id
    if ordinary.kind is ReplyKind.ADVICE:
        return ordinary.topic
    return None
