"""The shape of every YAML file in ``knowledge/``, as pydantic models.

The models check one file at a time; rules that span files (unknown source ids,
duplicate ids, the same phrasing in two entries) live in ``checks.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.knowledge.doses import states_dose

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
]

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
# Interface texts the bot fills in: a moderator's edit must keep these words in braces.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "shared_by": ("{user}",),
    "reload_done": ("{entries}", "{version}"),
    "reload_unchanged": ("{entries}", "{version}"),
    "reload_failed": ("{version}",),
    "unanswered_title": ("{days}",),
    "unanswered_item": ("{count}", "{question}"),
    "unanswered_none": ("{days}",),
    "crisis_alert": ("{link}",),
}


def count_sentences(text: str) -> int:
    """Count sentences by their closing punctuation; a text without any is one sentence."""
    return max(1, len(_SENTENCE_END.findall(text)))


class Strict(BaseModel):
    """Refuse unknown keys: a misspelt key in YAML would otherwise be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(Strict):
    """One question the bot can answer."""

    id: Identifier
    question: Text
    phrasings: list[Text] = Field(min_length=5)
    answer: Text
    caveat: Text | None = None
    sources: list[Identifier] = Field(min_length=1)
    reviewed: dt.date

    @field_validator("question")
    @classmethod
    def _question_mark(cls, value: str) -> str:
        if not value.endswith("?"):
            raise ValueError("the question should end with '?'")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_size(cls, value: str) -> str:
        sentences = count_sentences(value)
        if sentences > 5:
            raise ValueError(f"the answer has {sentences} sentences; keep it to 1 to 5")
        if len(value) > 700:
            raise ValueError(f"the answer has {len(value)} characters; keep it under 700")
        return value

    @field_validator("caveat")
    @classmethod
    def _caveat_size(cls, value: str | None) -> str | None:
        if value is not None and (count_sentences(value) > 2 or len(value) > 350):
            raise ValueError("the caveat should be 1 or 2 sentences and under 350 characters")
        return value

    @field_validator("answer", "caveat")
    @classmethod
    def _no_dose(cls, value: str | None) -> str | None:
        if value is not None and states_dose(value):
            raise ValueError("the bot never states a dose; remove the amount")
        return value

    @field_validator("reviewed")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        if value > dt.date.today():
            raise ValueError(f"the reviewed date {value} is in the future")
        return value


class EntryFile(Strict):
    """A file of entries answering one section of the article."""

    section: Text
    entries: list[Entry] = Field(min_length=1)


class NotCoveredTopic(Strict):
    """A subject next to the article's that it does not answer: say so, never guess."""

    id: Identifier
    topic: Text = Field(description="What the article leaves out, as a phrase: 'insurance cover'.")
    phrasings: list[Text] = Field(min_length=3)
    closest: list[Identifier] = Field(default_factory=list, max_length=3)
    reviewed: dt.date

    @property
    def question(self) -> str:
        """Matched like an entry's question."""
        return self.topic

    @property
    def answer(self) -> str:
        """Matched like an entry's answer: only the topic's own words."""
        return self.topic


class NotCoveredFile(Strict):
    """``not-covered.yaml``: subjects members ask about that the article does not cover."""

    topics: list[NotCoveredTopic] = Field(default_factory=list)


class Source(Strict):
    """A work the answers cite."""

    id: Identifier
    short: Text = Field(
        description="Short form for an answer's footer, e.g. 'Smith et al. (2024)'."
    )
    reference: Text = Field(description="The full reference, as in a bibliography.")
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    note: Text | None = None

    @model_validator(mode="after")
    def _has_link_or_note(self) -> Source:
        if not (self.doi or self.url or self.note):
            raise ValueError("give a doi or a url (or a note saying why there is none)")
        return self

    @property
    def link(self) -> str | None:
        """Where a member can read the source: the DOI resolver first, else the URL."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url


class SourcesFile(Strict):
    """``sources.yaml``."""

    sources: list[Source] = Field(min_length=1)


class SynonymsFile(Strict):
    """``synonyms.yaml``: words members use, mapped onto the words the entries use."""

    synonyms: dict[Text, list[Text]] = Field(default_factory=dict)
    ignore_words: list[Text] = Field(default_factory=list)


class CrisisSettings(Strict):
    """The crisis reply (resources first) and the floor of unmistakable phrases.

    Whether a message is a crisis is decided by the trained detector in
    ``models/crisis.json``; ``phrases`` only catch what no model may ever miss.
    """

    phrases: list[Text] = Field(min_length=1)
    title: Text
    resources: list[Text] = Field(min_length=1)
    message: Text


class CheckInSettings(Strict):
    """The private check-in for a message the detector is unsure about."""

    title: Text
    message: Text
    question: Text
    yes_button: Text
    no_button: Text
    public_pointer: Text


class AdviceTopic(Strict):
    """One kind of personal medical question the bot does not answer.

    The advice detector decides that a question is personal; ``phrases`` only pick
    which of these explanations fits it best (the last topic is the catch-all).
    """

    id: Identifier
    why: Text
    phrases: list[Text] = Field(default_factory=list)
    related_entry: Identifier | None = None


class AdviceSettings(Strict):
    """Personal medical questions: why the bot can't advise, and who can."""

    title: Text
    pointer: Text
    topics: list[AdviceTopic] = Field(min_length=1)


class SafetyFile(Strict):
    """``safety.yaml``."""

    crisis: CrisisSettings
    check_in: CheckInSettings
    advice: AdviceSettings


class InterfaceTexts(Strict):
    """Short texts the chat adapters show around replies (buttons, notices)."""

    cooldown: Text
    crisis_sent_privately: Text
    crisis_public_pointer: Text
    share_button: Text
    shared_by: Text
    suggestion_prompt: Text
    # feedback and moderators (see bot/adapters/moderators.py)
    helpful_button: Text
    not_helpful_button: Text
    vote_thanks: Text
    moderators_only: Text
    reload_done: Text
    reload_unchanged: Text
    reload_failed: Text
    unanswered_title: Text
    unanswered_item: Text
    unanswered_none: Text
    unanswered_off: Text
    crisis_alert: Text

    @field_validator(*PLACEHOLDERS)
    @classmethod
    def _keeps_placeholders(cls, value: str, info: ValidationInfo) -> str:
        missing = [name for name in PLACEHOLDERS[info.field_name] if name not in value]
        if missing:
            raise ValueError(f"keep {' and '.join(missing)} in the text; the bot fills it in")
        return value


class Replies(Strict):
    """``replies.yaml``: every fixed text the bot says."""

    disclaimer: Text
    help_title: Text
    help: Text
    fallback_title: Text
    fallback: Text
    clarify_title: Text
    clarify: Text
    not_covered_title: Text
    not_covered: Text
    sources_title: Text
    sources: Text
    related_prompt: Text
    caveat_label: Text
    sources_label: Text
    interface: InterfaceTexts
    greetings: list[Text] = Field(default_factory=list)
    sources_requests: list[Text] = Field(default_factory=list)

    @field_validator("not_covered")
    @classmethod
    def _names_the_topic(cls, value: str) -> str:
        if "{topic}" not in value:
            raise ValueError("keep {topic} in the text; the bot fills it in")
        return value


class Matching(Strict):
    """Score bands for the matcher (0-100). Raising the numbers makes the bot more cautious.

    Every number is strict: YAML reads ``on``/``yes`` as true, which must not become 1.
    """

    answer_at: float = Field(default=52, ge=0, le=100, strict=True)
    clear_lead_at: float = Field(default=37, ge=0, le=100, strict=True)
    clear_lead: float = Field(default=14, ge=0, le=100, strict=True)
    clarify_at: float = Field(default=30, ge=0, le=100, strict=True)
    # a "did you mean" also needs this many points of shared words with the best entry: by
    # meaning alone an off-topic question ("banana pancakes") scores like a vague real one
    clarify_words_at: float = Field(default=0, ge=0, le=100, strict=True)
    max_suggestions: int = Field(default=3, ge=1, le=5, strict=True)
    # how much of the score comes from meaning (sentence vectors) rather than shared words
    semantic_share: float = Field(default=0.0, ge=0, le=1, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> Matching:
        if not self.clarify_at <= self.clear_lead_at <= self.answer_at:
            raise ValueError("keep clarify_at <= clear_lead_at <= answer_at")
        return self


class Limits(Strict):
    """Limits that protect channels from floods."""

    cooldown_seconds: float = Field(default=3.0, ge=0, le=3600, strict=True)
    # moderator alerts (crisis, "yes, I'd like support"): one per member per window, and
    # at most ``alerts_per_channel`` from one channel in the same window
    alert_window_minutes: float = Field(default=30, gt=0, le=24 * 60, strict=True)
    alerts_per_channel: int = Field(default=3, ge=1, le=100, strict=True)


class SettingsFile(Strict):
    """``settings.yaml``: tunable numbers; every one has a default."""

    matching: Matching = Field(default_factory=Matching)
    limits: Limits = Field(default_factory=Limits)


class DetectorLayer(Strict):
    """One dense layer of a trained head."""

    weights: list[list[float]] = Field(min_length=1)
    bias: list[float] = Field(min_length=1)
    activation: Literal["relu", "sigmoid", "linear"]

    @model_validator(mode="after")
    def _shapes(self) -> DetectorLayer:
        widths = {len(row) for row in self.weights}
        if widths != {len(self.bias)}:
            raise ValueError("every weights row must be as long as bias")
        return self


class TrainingData(Strict):
    """What a detector was trained on, so ``validate`` can tell when it is stale."""

    files: list[Text] = Field(min_length=1, description="paths from the repository's top")
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    messages: int = Field(ge=1)
    # The corpus the shared encoder was fine-tuned on (every detector's files). ``refit``
    # fits new heads on the shipped encoder, so this can be older than ``sha256``: a record
    # of what the encoder saw, not a staleness check.
    encoder_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class EncoderRef(Strict):
    """A model file in ``models/`` the head depends on, pinned by its hash."""

    file: Text
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class NeighbourRef(Strict):
    """Labelled vectors a neighbour vote reads (``models/``): a detector's, the answer check's."""

    file: Text
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    k: int = Field(ge=1, le=100)


class ReferenceVector(Strict):
    """A sentence and the float model's vector for it, to pin the exported encoder against.

    ``exported`` is what the exported int8 encoder itself gave, read the way the bot reads
    it, when the file was written (older files lack it until ``python -m bot.training
    references`` adds it): int8 rounding keeps the two apart by a few hundredths, so the
    float vector shows the export is the right model and ``exported`` pins it tightly.
    """

    text: Text
    vector: list[float] = Field(min_length=1)
    exported: list[float] | None = Field(default=None, min_length=1)


class NgramAnalyzer(Strict):
    """One learned tf-idf vocabulary: each term's idf and its weight in the decision."""

    analyzer: Literal["word", "char_wb"]
    min_n: int = Field(ge=1, le=8)
    max_n: int = Field(ge=1, le=8)
    terms: dict[str, tuple[float, float]]


class NgramHead(Strict):
    """A logistic regression over word and character n-grams (see ``bot/core/ngrams.py``)."""

    analyzers: list[NgramAnalyzer] = Field(min_length=1)
    bias: float


def _check_chain(layers: list[DetectorLayer]) -> None:
    """Dense layers that fit together and end in one probability."""
    if layers[-1].activation != "sigmoid" or len(layers[-1].bias) != 1:
        raise ValueError("the last layer must give one sigmoid output")
    for before, after in itertools.pairwise(layers):
        if len(before.bias) != len(after.weights):
            raise ValueError("each layer must take as many inputs as the one before gives")


class DetectorFile(Strict):
    """``models/<name>.json``: a trained head, its thresholds and its training data."""

    name: Identifier
    encoder: EncoderRef
    tokenizer: EncoderRef
    references: list[ReferenceVector] = Field(default_factory=list)
    positive: Identifier
    layers: list[DetectorLayer] = Field(min_length=1)
    # when present, the detector's probability combines the encoder head's and this one's,
    # as ``blend`` says (``bot.core.detector.blend``): the thresholds were chosen on that
    ngrams: NgramHead | None = None
    # when present, the k nearest labelled messages vote too (``bot.core.neighbours``)
    neighbours: NeighbourRef | None = None
    blend: Literal["mean", "logit_mean"] = "mean"
    thresholds: dict[str, float]
    training: TrainingData
    trained: dt.date
    development: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _chain(self) -> DetectorFile:
        _check_chain(self.layers)
        for name, value in self.thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold {name} must be between 0 and 1")
        return self


# What the answer check reads for each candidate entry, in this order
# (``bot.core.answer_check.candidate_features`` computes them).
# What the labelled questions nearest in meaning say (``bot.core.answer_check.PastQuestions``).
PAST_FEATURES = (
    "past-share",  # the entry's weighted share of the nearest past questions
    "past-unanswered",  # the share of those that were not covered or off-topic
    "past-closest",  # cosine of the closest past question answered by the entry
    "past-closest-unanswered",  # cosine of the closest one left unanswered
)

# How much of the question the entry's own words explain (``bot.core.matcher.Matcher.coverage``).
COVERAGE_FEATURES = (
    "entry-covers",  # the share of the question's word weight the entry's words use
    "rarest-left-out",  # the weight of the rarest question word the entry does not use
    "unknown-words",  # how many of the question's words no entry or topic uses
)

ANSWER_FEATURES = (
    "blended",  # the blended ranking's score
    "words",  # rapidfuzz's score alone
    "meaning",  # cosine to the entry's closest wording
    "rank",  # 0 for the best entry, 1 for the next, ...
    "behind-best",  # how far below the best owner (entry or not-covered topic) it scored
    "lead",  # its margin over the next entry (the best's over the second; others negative)
    "best-not-covered",  # the best not-covered topic's score
    "over-not-covered",  # its margin over that topic
    "information",  # how much the question says (``Matcher.information``)
    "to-mean",  # cosine to the mean of all the entry's wordings
    "length",  # the question's words
    *COVERAGE_FEATURES,
    *PAST_FEATURES,
)


class AnswerCheckFile(Strict):
    """``models/answers.json``: when a ranked entry really answers the question.

    A small network over the ranking's scores for each candidate entry (``features``, in
    the order ``bot.core.answer_check.FEATURES`` computes them), trained by ``python -m
    bot.training refit`` on labelled questions and on the knowledge wordings held out.
    """

    name: Literal["answers"] = "answers"
    features: list[Identifier] = Field(min_length=1)
    layers: list[DetectorLayer] = Field(min_length=1)
    threshold: float = Field(gt=0.0, lt=1.0)
    training: TrainingData
    trained: dt.date
    development: dict[str, float] = Field(default_factory=dict)
    # the labelled questions whose nearest ones vote; without it, their features are zero
    questions: NeighbourRef | None = None

    @model_validator(mode="after")
    def _chain(self) -> AnswerCheckFile:
        _check_chain(self.layers)
        if tuple(self.features) != ANSWER_FEATURES:
            raise ValueError(
                f"reads features {self.features}, the bot computes {list(ANSWER_FEATURES)}; "
                "refit with: python -m bot.training refit"
            )
        if len(self.layers[0].weights) != len(self.features):
            raise ValueError("the first layer must take one input per feature")
        return self
