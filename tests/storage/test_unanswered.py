"""The unanswered-question queue: near-identical wordings together, never crisis or advice."""

from __future__ import annotations

from bot.moderation.grouping import group_wordings
from bot.storage import UnansweredGroup


def test_near_identical_wordings_count_together():
    groups = group_wordings(
        [
            ("does ketamine help with nightmares", 3),
            ("Does ketamine help with nightmares??", 2),
            ("does ketamine help nightmares", 1),
            ("does ketamin help with nightmares", 1),
            ("is ketamine legal in canada", 2),
            ("is ketamine legal in the uk", 1),
        ]
    )

    assert groups == [
        UnansweredGroup(example="does ketamine help with nightmares", count=7, wordings=3),
        UnansweredGroup(example="is ketamine legal in canada", count=2, wordings=1),
        UnansweredGroup(example="is ketamine legal in the uk", count=1, wordings=1),
    ]


def test_different_questions_stay_apart_and_the_limit_keeps_the_biggest():
    asked = [
        ("does ketamine help with sleep", 2),
        ("does ketamine help with nightmares", 4),
        ("can ketamine cure ocd", 1),
        ("can ketamine cure adhd", 3),
    ]

    assert [group.example for group in group_wordings(asked)] == [
        "does ketamine help with nightmares",
        "can ketamine cure adhd",
        "does ketamine help with sleep",
        "can ketamine cure ocd",
    ]
    assert group_wordings(asked, limit=2) == [
        UnansweredGroup("does ketamine help with nightmares", 4, 1),
        UnansweredGroup("can ketamine cure adhd", 3, 1),
    ]


def test_the_example_is_the_wording_members_used_most():
    groups = group_wordings(
        [("Is Ketamine LEGAL in Canada", 1), ("is ketamine legal in canada?", 2)]
    )

    assert groups == [UnansweredGroup("is ketamine legal in canada?", 3, 1)]


def test_wordings_with_no_words_are_left_out():
    assert group_wordings([("???", 4), ("🙂", 1)]) == []


def test_the_queue_through_the_bot_has_unanswered_questions_only(recording_service, store, clock):
    for question in (
        "is ketamine legal in canada",
        "Is ketamine legal in Canada?",
        "is ketamine legal in canada",
        "is ketamine legal in canda",
        "can ketamine cure ocd",
        "what's the weather in paris",
        "I want to end my life tonight",
        "I want to end my life tonight",
        "how much ketamine should I take for my flashbacks",
        "how fast does ketamine work for ptsd",
        "sources",
    ):
        recording_service.ask(
            question, platform="discord", member="80293457812034765", limited=False
        )

    assert store.unanswered(days=30, limit=10) == [
        UnansweredGroup("is ketamine legal in canada", 4, 2),
        UnansweredGroup("can ketamine cure ocd", 1, 1),
        UnansweredGroup("what's the weather in paris", 1, 1),
    ]
    assert store.unanswered(limit=1) == [UnansweredGroup("is ketamine legal in canada", 4, 2)]


def test_the_queue_covers_only_the_last_days_asked_for(recording_service, store, clock):
    recording_service.ask(
        "is ketamine legal in canada", platform="slack", member="U1", limited=False
    )
    clock.advance(days=10)
    recording_service.ask(
        "what's the weather in paris", platform="slack", member="U1", limited=False
    )
    clock.advance(days=5)

    assert store.unanswered(days=4) == []
    assert [group.example for group in store.unanswered(days=6)] == ["what's the weather in paris"]
    assert len(store.unanswered(days=30)) == 2
