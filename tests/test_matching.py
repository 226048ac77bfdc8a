"""The word matcher on a tiny base of its own: how much a question's meaning may steer it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.matcher import LONG_MESSAGE_WORDS, Matcher
from bot.core.normalize import normalize
from bot.core.synonyms import Canonicalizer


@dataclass(frozen=True)
class _Entry:
    id: str
    question: str
    phrasings: list[str] = field(default_factory=list)
    answer: str = ""


def _matcher() -> Matcher:
    entries = [
        _Entry("speed", "How fast does ketamine work?", ["does it work quickly"], "Within hours."),
        _Entry("length", "How long is a session?", ["session length in hours"], "Two hours."),
        _Entry("nmda", "What are NMDA receptors?", ["nmda receptor"], "A glutamate receptor."),
    ]
    return Matcher(entries, Canonicalizer({}, ["a", "the", "is", "does", "it"]))


def test_a_short_clear_question_lets_meaning_count_fully():
    assert _matcher().information(normalize("what are nmda receptors")) == 1.0


def test_a_long_story_lets_meaning_count_less_the_longer_it_runs():
    matcher = _matcher()
    question = "how long is a ketamine session"
    story = " ".join(["my brother went through a lot this year"] * 5)
    at_cap = " ".join((story + " " + question).split()[-LONG_MESSAGE_WORDS:])
    long_message = normalize(f"{story} {question}")
    longer_message = normalize(f"{story} {story} {question}")

    assert matcher.information(normalize(at_cap)) == 1.0
    assert matcher.information(longer_message) < matcher.information(long_message) < 1.0
    assert matcher.information(long_message) == LONG_MESSAGE_WORDS / len(long_message.split())


def test_the_long_story_still_finds_its_question_by_shared_words():
    story = " ".join(["my brother went through a lot this year"] * 5)
    ranked = _matcher().rank(normalize(f"{story} how long is a session in hours"), 3)
    assert ranked[0].entry_id == "length"


def test_a_typo_is_mended_on_the_word_as_typed_when_its_folded_form_is_too_far():
    matcher = Matcher(
        [_Entry("plastic", "What is neuroplasticity?", ["neuroplasticity explained"])],
        Canonicalizer({}, ["what", "is"]),
    )
    # "neuroplastisity" folds to "neuroplastis", two letters from the indexed "neuroplast"
    assert matcher.query_key(normalize("whats neuroplastisity")) == "what neuroplast"
    assert matcher.rank(normalize("neuroplastisity?"), 1)[0].entry_id == "plastic"


def test_a_wording_is_read_once_and_its_key_matches_a_fresh_reading():
    canonicalizer = Canonicalizer({"ketamine": ["ket", "special k"]}, ["how", "does", "the"])
    first = canonicalizer.read("How does Special K block the NMDA receptors?")
    again = canonicalizer.read("How does Special K block the NMDA receptors?")
    assert again is first  # the index and the loader's checks share the one reading
    assert first.canonical == "how does ketamine block the nmda receptors"
    assert first.key == "ketamin block nmda receptor"
    assert canonicalizer.key("how does ket block nmda receptors") == first.key


def test_coverage_shows_the_detail_an_entry_never_mentions():
    matcher = _matcher()
    # every word of the question is in the session-length entry's own words
    covered, left_out, unknown = matcher.coverage(normalize("how long is a session"), ["length"])[0]
    assert (covered, left_out, unknown) == (1.0, 0.0, 0.0)
    # its facts repeated, then a detail no entry gives: "chairs" is unknown to the base
    detail = normalize("a session is two hours, but are the chairs comfy")
    (length_row,) = matcher.coverage(detail, ["length"])
    assert 0.0 < length_row[0] < 1.0
    assert length_row[1] == matcher.coverage(detail, ["speed"])[0][1]  # the unknown word, rarest
    assert length_row[2] == 3.0  # "but", "chairs" and "comfy": this tiny base lists few stop words
    # an entry that shares fewer of its words covers less of it
    assert matcher.coverage(detail, ["speed"])[0][0] < length_row[0]
