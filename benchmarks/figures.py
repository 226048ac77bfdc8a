"""Accuracy and safety figures on the frozen test sets: run once per change, never tuned on.

    python benchmarks/figures.py [--misses]

Each set is scored on its own, so crisis recall and false alarms stand side by side.
Printing a set's misses is for understanding a change, never for choosing a phrase,
synonym, weight or threshold (see ../shared/EVALUATION.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.responder import Responder  # noqa: E402
from bot.evaluation import evaluate, load_cases  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402

DATA = ROOT / "tests" / "data"
FROZEN = {
    "crisis test split": DATA / "safety" / "test.yaml",
    "everyday questions": DATA / "safety" / "everyday-test.yaml",
    "advice test split": DATA / "advice" / "test.yaml",
    "matching test set": DATA / "questions" / "test.yaml",
}


def main() -> None:
    responder = Responder(load_knowledge(ROOT / "knowledge"))
    for name, path in FROZEN.items():
        cases = load_cases(path)
        figures = evaluate(responder, cases)
        print(f"== {name} ({path.relative_to(ROOT)}, {len(cases)} messages)")
        print(figures.summary())
        if "--misses" in sys.argv[1:] and figures.misses:
            print("\n".join(figures.misses))
        print()


if __name__ == "__main__":
    main()
