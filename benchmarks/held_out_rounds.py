"""How the crisis check-in band's recall rule carries over to a round nobody tuned on (dev only).

    python benchmarks/held_out_rounds.py [--targets 0.98,0.985,0.99]

The check-in band keeps a share of the held-out retired sets' crisis messages (``Task.
held_out_recall`` in ``bot/training/train.py``). A fresh round meets a band chosen on the
rounds before it, so for each retired round in turn this chooses the band, by the same
rule, on the other rounds and measures the one left out: its crisis messages caught and
its ordinary messages flagged (crisis split and everyday set). Nothing here reads a frozen
set, and the heads never learned from a retired one, so each left-out round is as new to
the detector as a fresh one (kinder only in that its misses guided later training data).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.detector import Detector  # noqa: E402
from bot.core.encoder import encoder_for  # noqa: E402
from bot.core.normalize import encoder_windows  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.knowledge.models import MODELS_FOLDER  # noqa: E402
from bot.training.rounds import retired_rounds  # noqa: E402
from bot.training.train import threshold_for_recall  # noqa: E402

SAFETY = ROOT / "tests" / "data" / "safety"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="0.98,0.985,0.99", help="held-out recall targets")
    targets = [float(value) for value in parser.parse_args().targets.split(",")]
    knowledge = load_knowledge(ROOT / "knowledge")
    spec = knowledge.detectors["crisis"]
    detector = Detector(spec, knowledge.directory / MODELS_FOLDER)
    encoder = encoder_for(knowledge.directory, spec)

    def scores(messages: list[dict[str, object]]) -> np.ndarray:
        """The detector's score as the screen reads a message: its most worrying window."""
        values = []
        for message in messages:
            windows = encoder_windows(str(message["text"]))
            found = detector.probabilities(windows, encoder.encode(windows)) if windows else [0]
            values.append(float(np.max(found)))
        return np.array(values)

    splits = retired_rounds(SAFETY / "retired-test.yaml")
    everyday = retired_rounds(SAFETY / "retired-everyday.yaml")
    rounds = [
        (scores(split), np.array([m["label"] == "crisis" for m in split]), scores(ordinary))
        for split, ordinary in zip(splits, everyday, strict=True)
    ]
    sizes = ", ".join(f"{len(s)}+{len(e)}" for s, e in zip(splits, everyday, strict=True))
    print(f"{len(rounds)} retired rounds (crisis split + everyday): {sizes}")
    print(f"shipped check-in band {spec.thresholds['check_in']:.3f}")
    for target in targets:
        caught, flagged, everyday_flagged = [], [], []
        for left_out, (split, labels, ordinary) in enumerate(rounds):
            others = [r for index, r in enumerate(rounds) if index != left_out]
            band = threshold_for_recall(
                np.concatenate([s for s, _, _ in others]),
                np.concatenate([y for _, y, _ in others]).astype(int),
                target,
            )
            caught.append(np.mean(split[labels] >= band))
            flagged.append(np.mean(split[~labels] >= band))
            everyday_flagged.append(np.mean(ordinary >= band))
        print(
            f"target {target:.3f}: left-out recall {' '.join(f'{x:.3f}' for x in caught)}"
            f" (mean {np.mean(caught):.2%}, lowest {min(caught):.1%}); ordinary flagged:"
            f" crisis split mean {np.mean(flagged):.2%}, everyday mean"
            f" {np.mean(everyday_flagged):.2%} (highest {max(everyday_flagged):.1%})"
        )


if __name__ == "__main__":
    main()
