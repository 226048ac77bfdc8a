"""Whether a group of the answer check's features carries over to a round nobody tuned on.

    python benchmarks/answer_check_rounds.py [--commits C1,C2] [--groups G1,G2] [--thresholds T1,T2]

Out-of-fold figures flatter a feature: a fold's questions sit beside others from the same
round, written by the same writer in the same way. Here, for each round named by a commit
where its matching set was the frozen one (read with ``git show``), the check is fitted
as ``refit`` fits it (threshold chosen out of fold by the same rule) on every labelled
question except that round's, with that round also absent from the past-questions vote,
and scored on the round: once with every feature, and once without each group. Needs the
repository's history; reads no frozen set of the current round.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.answer_check import PastQuestions  # noqa: E402
from bot.core.responder import Responder  # noqa: E402
from bot.evaluation import load_cases  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.knowledge.schema import ANSWER_FEATURES, COVERAGE_FEATURES, PAST_FEATURES  # noqa: E402
from bot.training import answers  # noqa: E402

# The fifteenth to eighteenth rounds, each at the commit that scored it.
ROUNDS = "660ddaa,2961b94,c384975,024d7ee"
GROUPS = {"all features": (), "without coverage": COVERAGE_FEATURES, "without past": PAST_FEATURES}


def round_questions(commit: str) -> set[str]:
    """The matching set that was frozen at ``commit``."""
    text = subprocess.run(
        ["git", "show", f"{commit}:tests/data/questions/test.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        return {case.text for case in load_cases(Path(handle.name))}


def without(items: list[answers.Item], dropped: tuple[str, ...]) -> list[answers.Item]:
    """The items with the dropped features' columns taken out."""
    keep = [i for i, name in enumerate(ANSWER_FEATURES) if name not in dropped]
    return [
        answers.Item(
            i.expect, i.entries, i.features[:, keep], i.fold, i.held_out, i.settled, i.banded
        )
        for i in items
    ]


def row(
    label: str, items: list[answers.Item], picks: list[tuple[str | None, float]], threshold: float
) -> str:
    """One line of the table: the round's rates at ``threshold``."""
    right, unanswered = answers.rates(items, picks, threshold)
    wrong = answers.wrong_answers(items, picks, threshold)
    return f"{label}  {threshold:9.2f}  {right:6.1%}  {unanswered:10.1%}  {wrong:5.1%}"


def fitted_threshold(items: list[answers.Item], folds: int = 5) -> tuple[object, float]:
    """The check and its threshold, fitted exactly as ``refit`` fits them."""
    picks = answers.out_of_fold_picks(items, folds)
    return answers._fit(items), answers.choose_threshold(items, picks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", default=ROUNDS, help="commits whose frozen round to leave out")
    parser.add_argument("--groups", default=",".join(GROUPS), help="feature groups to compare")
    parser.add_argument(
        "--thresholds", default="", help="also score at these thresholds (0.3,0.5,...)"
    )
    arguments = parser.parse_args()
    commits = arguments.commits.split(",")
    groups = {name: GROUPS[name] for name in arguments.groups.split(",")}
    extra = [float(value) for value in arguments.thresholds.split(",") if value]
    knowledge = load_knowledge(ROOT / "knowledge", answer_check=False, check_training=False)
    responder = Responder(knowledge)
    cases = answers.labelled_questions(ROOT)
    vectors = np.stack([responder.first_vector(case.text) for case in cases])
    print("round    features           questions  threshold  right   unanswered  wrong")
    for commit in commits:
        left_out = round_questions(commit)
        kept = [i for i, case in enumerate(cases) if case.text not in left_out]
        scored = [i for i, case in enumerate(cases) if case.text in left_out]
        kept_cases = [cases[i] for i in kept]
        past = answers.past_questions(vectors[kept], kept_cases, 5)
        training = answers.held_out_items(knowledge, responder, 5, past)
        training += answers.question_items(responder, kept_cases, vectors[kept], 5, past)
        everyone = PastQuestions(past.vectors, past.owners, past.k)  # a fresh round hides nothing
        tested = answers.question_items(
            responder, [cases[i] for i in scored], vectors[scored], 5, everyone
        )
        for name, dropped in groups.items():
            model, threshold = fitted_threshold(without(training, dropped))
            items = without(tested, dropped)
            picks = [answers._best(model, item) for item in items]
            print(row(f"{commit:8} {name:18} {len(items):9}", items, picks, threshold))
            for fixed in extra:
                print(row(" " * 37, items, picks, fixed))


if __name__ == "__main__":
    main()
