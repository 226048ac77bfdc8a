"""The one entry point: a member's message in, a ``Reply`` out.

Order matters and is the product's safety promise: crisis language first (resources,
never an answer), then personal medical questions (a pointer to a clinician, never a
dose), and only then the knowledge base.
"""

from __future__ import annotations

from bot.core.matcher import Matcher
from bot.core.normalize import normalize
from bot.core.reply import Citation, Reply, ReplyKind, Suggestion
from bot.core.safety import SafetyCheck
from bot.core.synonyms import Canonicalizer
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.schema import AdviceTopic

AUTOCOMPLETE_LIMIT = 25


class Responder:
    """Answers questions from one immutable knowledge base.

    Build a new ``Responder`` to change knowledge; swapping the reference is atomic.
    """

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        synonyms = knowledge.synonyms
        canonicalizer = Canonicalizer(synonyms.synonyms, synonyms.ignore_words)
        self._matcher = Matcher(knowledge.entries.values(), canonicalizer)
        known_words = {
            word
            for entry in knowledge.entries.values()
            for text in (entry.question, entry.answer, *entry.phrasings)
            for word in normalize(text).split()
        }
        self._safety = SafetyCheck(knowledge.safety, known_words)
        replies = knowledge.replies
        self._greetings = {normalize(text) for text in replies.greetings}
        self._source_requests = {normalize(text) for text in replies.sources_requests}
        self._questions = {entry.id: entry.question for entry in knowledge.entries.values()}

    # -- the entry point ---------------------------------------------------------------

    def respond(self, message: str) -> Reply:
        """Turn a member's message into the reply they should read."""
        normalized = normalize(message)
        if not normalized or normalized in self._greetings:
            return self.help(message)
        verdict = self._safety.check(normalized)
        if verdict is not None:
            if verdict.crisis:
                return self.crisis(message)
            assert verdict.topic is not None
            return self.advice(message, verdict.topic)
        if normalized in self._source_requests:
            return self.sources(message)
        return self._match(message, normalized)

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

    def crisis(self, question: str) -> Reply:
        """Resources first, a plain word that this is not a crisis service, nothing else."""
        crisis = self.knowledge.safety.crisis
        return self._reply(
            question,
            ReplyKind.CRISIS,
            title=crisis.title,
            body=crisis.message,
            items=tuple(crisis.resources),
        )

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

    def _match(self, message: str, normalized: str) -> Reply:
        settings = self.knowledge.matching
        ranked = self._matcher.rank(normalized, settings.max_suggestions + 1)
        best = ranked[0] if ranked else None
        if best is not None:
            lead = best.score - (ranked[1].score if len(ranked) > 1 else 0.0)
            clear_winner = best.score >= settings.clear_lead_at and lead >= settings.clear_lead
            if best.score >= settings.answer_at or clear_winner:
                return self.answer(best.entry_id, message, best.score)
        if best is not None and best.score >= settings.clarify_at:
            replies = self.knowledge.replies
            suggestions = tuple(
                Suggestion(match.entry_id, self._questions[match.entry_id])
                for match in ranked[: settings.max_suggestions]
                if match.score >= settings.clarify_at
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
