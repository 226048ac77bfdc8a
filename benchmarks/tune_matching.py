"""Choose the matching bands on the DEV question sets (never the test set): prints a grid.

    python benchmarks/tune_matching.py [--help]

The dev sets are tests/data/questions/dev.yaml and, when present, retired-test.yaml (the
old frozen test splits, retired to dev once their figures were published) and
dev-fresh.yaml (a writer who never saw the phrasings); the frozen test.yaml is never read
here.

For each share of meaning (sentence vectors) in the blended score, it searches the
answer / clarify / clear-lead bands for the most in-scope questions answered with the
right entry while keeping questions the article does not cover unanswered (at least
KEEP_UNANSWERED of not-covered and out-of-scope questions together, and KEEP_OUT_OF_SCOPE
of the out-of-scope ones alone: an off-topic question must not get a confident answer).
It scores the matching alone, as if no safety reply had been given. The chosen values go
into knowledge/settings.yaml by hand; the frozen test set then measures them.

With a trained answer check (knowledge/models/answers.json) the bands no longer decide
whether an entry is answered; they still decide when a not-covered topic is close enough to
say so, and they decide everything for a knowledge folder without the model file. The
check's own figures come from `python -m bot.training refit`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.responder import Responder  # noqa: E402
from bot.evaluation import NOT_COVERED, OUT_OF_SCOPE, load_cases  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402

KEEP_UNANSWERED = 0.96  # dev target for not-covered and out-of-scope questions
KEEP_OUT_OF_SCOPE = 0.95  # dev target for out-of-scope questions alone
QUESTIONS = ROOT / "tests" / "data" / "questions"
DEV_SETS = ("dev.yaml", "retired-test.yaml", "dev-fresh.yaml")  # never test.yaml: frozen


def decide(ranked, settings, topics) -> str | None:  # noqa: ANN001
    """What ``Responder._match`` would answer with: an entry or topic id, else ``None``."""
    if not ranked:
        return None
    best = ranked[0]
    lead = best.score - (ranked[1].score if len(ranked) > 1 else 0.0)
    clear = best.score >= settings.clear_lead_at and lead >= settings.clear_lead
    if best.score >= settings.answer_at or clear:
        return best.entry_id
    if best.score >= settings.clarify_at and best.entry_id in topics:
        return best.entry_id
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    base = load_knowledge(ROOT / "knowledge")
    knowledge = dataclasses.replace(
        base, matching=base.matching.model_copy(update={"semantic_share": 0.5})
    )
    responder = Responder(knowledge)
    sets = [QUESTIONS / name for name in DEV_SETS if (QUESTIONS / name).is_file()]
    cases = [case for path in sets for case in load_cases(path)]
    print(f"{len(cases)} dev questions from {', '.join(path.name for path in sets)}")
    screened = [responder.screen(case.text) for case in cases]
    topics = set(knowledge.not_covered)
    results = []
    for share in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        responder.knowledge = dataclasses.replace(
            knowledge, matching=knowledge.matching.model_copy(update={"semantic_share": share})
        )
        ranks = [responder._rank(s.normalized, s.vectors).blended for s in screened]
        shipped = base.matching
        grid = itertools.product(
            range(40, 80, 2), range(30, 70, 4), (6, 10, 14, 18), range(25, 60, 5)
        )
        if share == shipped.semantic_share:  # the shipped bands are scored too, and printed
            shipped_bands = (
                shipped.answer_at,
                shipped.clear_lead_at,
                shipped.clear_lead,
                shipped.clarify_at,
            )
            grid = itertools.chain([shipped_bands], grid)
        shown = False
        for answer_at, lead_at, lead, clarify_at in grid:
            if not clarify_at <= lead_at <= answer_at:
                continue
            settings = knowledge.matching.model_copy(
                update={
                    "answer_at": answer_at,
                    "clear_lead_at": lead_at,
                    "clear_lead": lead,
                    "clarify_at": clarify_at,
                }
            )
            right = inside = kept = outside = honest = off_topic = off_topic_kept = 0
            for case, ranked in zip(cases, ranks, strict=True):
                got = decide(ranked, settings, topics)
                if case.expect in (NOT_COVERED, OUT_OF_SCOPE):
                    outside += 1
                    unanswered = got is None or got in topics
                    kept += unanswered
                    honest += case.expect == NOT_COVERED and got in topics
                    if case.expect == OUT_OF_SCOPE:
                        off_topic += 1
                        off_topic_kept += unanswered
                else:
                    inside += 1
                    right += got == case.expect
            if share == shipped.semantic_share and not shown:
                shown = True
                print(
                    f"shipped (share {share:.1f}, answer_at {answer_at:g}, "
                    f"clear_lead_at {lead_at:g}, clear_lead {lead:g}, clarify_at {clarify_at:g}): "
                    f"in scope {right / inside:.1%}, unanswered {kept / outside:.1%},"
                    f" out-of-scope unanswered"
                    f" {off_topic_kept}/{off_topic}, honest not-covered {honest}"
                )
            if off_topic and off_topic_kept / off_topic < KEEP_OUT_OF_SCOPE:
                continue
            results.append(
                (
                    right / inside,
                    kept / outside,
                    honest,
                    share,
                    answer_at,
                    lead_at,
                    lead,
                    clarify_at,
                )
            )
    for share in sorted({row[3] for row in results}):
        eligible = [row for row in results if row[3] == share and row[1] >= KEEP_UNANSWERED]
        if eligible:
            best = max(eligible)
            print(
                f"share {share:.1f}: in scope {best[0]:.1%}, unanswered {best[1]:.1%}, "
                f"honest not-covered {best[2]}; answer_at {best[4]}, clear_lead_at {best[5]}, "
                f"clear_lead {best[6]}, clarify_at {best[7]}"
            )


if __name__ == "__main__":
    main()
