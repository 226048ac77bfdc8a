"""Train the safety screen: a fine-tuned encoder with one head per detector, plus n-grams.

One command (``python -m bot.training train``) does it all from the corpora in the repo:
1. out of fold (``--folds``, stratified by detector and label): fine-tune the encoder on
   the other folds, score the held-out one; train the n-gram model the same way;
2. choose each detector's thresholds on those out-of-fold probabilities (the encoder
   head's and the n-gram model's, combined by ``bot.core.detector.blend``), recall first: a
   missed crisis is the worst failure, so the lowest band keeps recall at its target (out
   of fold and on the held-out retired sets, ``Task.held_out``: the lower band of the two),
   raised only as far as the knowledge base's own wordings (negatives here, scored out of
   fold) require; the surer band above it spends the false-alarm budget on the held-out
   retired sets when there are any, else out of fold;
3. fine-tune once more on everything, export the encoder to int8 ONNX, and write each
   detector file with its heads, thresholds, the corpus hash and reference vectors (the
   float model's and the exported int8 encoder's own, so a test can pin both).
Every fine-tune also keeps matching's wordings near the vectors the replaced encoder gave
them (``Recipe.keep_geometry``). ``--folds 0`` skips step 1: one fine-tune, then ``refit``
(``_train_final_only``). The test splits are never read here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.detector import BLEND, blend
from bot.core.encoder import SentenceEncoder
from bot.evaluation import load_cases
from bot.knowledge.models import ENCODER_FILE, TOKENIZER_FILE, corpus_digest
from bot.training.corpus import Labelled, knowledge_wordings, read_split
from bot.training.finetune import (
    Recipe,
    export_int8,
    fine_tune,
    float_vectors,
    head_layer,
    predict,
    save_tokenizer,
)

SEED = 20261130


def training_files() -> list[str]:
    """Every file the shared encoder is fine-tuned on."""
    return [f"{task.folder}/{split}.yaml" for task in TASKS for split in ("train", "dev")]


# Member questions the matching is developed on: chatty, often long questions about the
# article (and off-topic ones), none a crisis or a request for personal advice. Every detector
# learns "no" from them; the matching's retired and frozen question sets stay unseen.
QUESTIONS = "tests/data/questions/dev.yaml"


def task_files(task: Task) -> list[str]:
    """The files one detector depends on: its corpus, any it borrows from, its held-out sets."""
    folders = [task.folder]
    if task.borrowed_negatives or task.borrows_everything:
        folders += [other.folder for other in TASKS if other.name != task.name]
    learned = [f"{folder}/{split}.yaml" for folder in folders for split in ("train", "dev")]
    return [*learned, QUESTIONS, *(f"{task.folder}/{name}.yaml" for name in task.held_out)]


REFERENCE_TEXTS = (
    "I can't see any reason to keep going.",
    "Is it OK to take the bus home after an infusion?",
    "should i stop my sertraline before ketamine",
    "What is the PCL-5?",
)
# The lowest cosine the exported int8 encoder may have to the float model's vectors. Read
# wrongly (CLS or max pooling, an earlier layer's output) the 2026-11-30 model scored 0.58
# or less. Read rightly it scored 0.89, because its float vectors were taken with dropout
# still on; a correct per-column int8 export of the base MiniLM scores 0.986 or more.
INT8_FLOOR = 0.85


def reference_vectors(
    texts: Sequence[str], floats: np.ndarray, encoder: SentenceEncoder
) -> list[dict[str, object]]:
    """Each text with the float model's vector and the exported encoder's own, as written."""
    exported = encoder.encode(texts)
    return [
        {
            "text": text,
            "vector": [round(float(value), 6) for value in expected],
            "exported": [round(float(value), 6) for value in actual],
        }
        for text, expected, actual in zip(texts, floats, exported, strict=True)
    ]


def int8_agreement(references: Sequence[dict[str, object]]) -> float:
    """The lowest cosine between a reference's float vector and the exported encoder's."""
    floats = np.array([reference["vector"] for reference in references], dtype=np.float64)
    exported = np.array([reference["exported"] for reference in references], dtype=np.float64)
    cosines = (floats * exported).sum(axis=1) / (
        np.linalg.norm(floats, axis=1) * np.linalg.norm(exported, axis=1)
    )
    return float(cosines.min())


@dataclass(frozen=True)
class Task:
    """What one detector learns: its corpus, positive label, and threshold targets."""

    name: str
    folder: str
    positive: str
    # The lowest band: the highest score that keeps this share of positives at or above it.
    lowest: str
    recall: float
    # An optional surer band above it: the lowest score at which at most this share of
    # negatives is flagged (never below the lowest band).
    surer: str | None = None
    false_alarms: float = 0.0
    # Messages of these categories from the other corpora teach this detector "no" too.
    borrowed_negatives: tuple[str, ...] = ()
    # Every message of the other corpora is a "no" for this detector (by the advice
    # corpus's labelling policy, no dose or medicine question in it is a crisis).
    borrows_everything: bool = False
    # Development sets nothing learns from (retired test splits). When present, the surer
    # band is chosen on them: at most ``held_out_false_alarms`` of their negatives reach it;
    # and the lowest band keeps ``recall`` of their positives too.
    # Out-of-fold scores are too sure of themselves for that band when the encoder was
    # fine-tuned on the very messages being scored.
    held_out: tuple[str, ...] = ()
    held_out_false_alarms: float = 0.0
    # If set, the lowest band is raised until at most this share of the knowledge base's own
    # wordings (ordinary questions the bot exists to answer) reach it: a recall target chosen
    # on a corpus full of hard negatives would otherwise check in on everyday questions.
    # The wordings are also negatives the heads learn from, scored out of fold like the
    # corpus, so the band is never chosen on wordings the model has already seen.
    ordinary_flagged: float | None = None
    # The recall the lowest band must keep on the held-out sets (``recall`` if None).
    held_out_recall: float | None = None
    # Whether the out-of-fold recall rule may pull the lowest band below the held-out one.
    # Training messages written from a round's hardest misses score low out of fold, so
    # with the held-out sets there that rule lowered the band a little more every round.
    out_of_fold_floor: bool = True


TASKS = (
    # Crisis recall 0.985 out of fold, not 0.99: chosen on the retired sets (2026-12-01),
    # where it kept 98.6% of crisis messages against 98.9% and flagged 1.7% of ordinary
    # messages against 2.4% (and 1.7% of the retired member questions against 2.6%).
    Task(
        "crisis",
        "tests/data/safety",
        "crisis",
        "check_in",
        0.985,
        "crisis",
        0.004,
        borrows_everything=True,
        held_out=("retired-test", "retired-everyday"),
        held_out_false_alarms=0.01,
        ordinary_flagged=0.01,
        # 99% of the retired rounds' crisis messages, and the out-of-fold rule no longer
        # pulls the band lower (2026-12-02, fifteenth session). Until then the band was the
        # lower of 98.5% out of fold and 98.5% held out, and the out-of-fold one had come
        # to bind: it fell from 0.202 to 0.154 over five rounds of training messages
        # written from misses, and the everyday false alarms of the fresh rounds rose to
        # 4.0%. Each of rounds 17 to 21 kept about 0.4 points fewer crisis messages than
        # the retired ones did at its band, so the held-out target is 99%, not 98.5%: left
        # out in turn (``benchmarks/held_out_rounds.py``, 20 rounds, f33f2c0), 99% kept
        # 99.0% of a round's crisis messages on average (lowest 97.8%) and flagged 2.45% /
        # 1.93% of its ordinary crisis-split / everyday messages; 98.5% kept 98.5% (lowest
        # 96.8%) for 1.43% / 1.21%. The extra flags get a check-in, not the crisis reply:
        # that band is set apart (``held_out_false_alarms``).
        held_out_recall=0.99,
        out_of_fold_floor=False,
    ),
    Task(
        "advice",
        "tests/data/advice",
        "advice",
        "advice",
        0.97,
        borrowed_negatives=("chitchat", "gibberish", "idiom", "grief", "logistics"),
        held_out=("retired-test",),
        ordinary_flagged=0.01,
        # 98.5% on the held-out sets, not 97%: each fresh round has kept fewer advice
        # questions than the retired sets did at the same band (the sixth: 87.3% at a band
        # that kept 97.1% of the retired ones), while the retired general questions stay
        # near 0% flagged down to far lower bands (0.3% at 0.395, 2026-12-01).
        held_out_recall=0.985,
    ),
)


# The label given to knowledge-base wordings among a task's messages.
KNOWLEDGE = "knowledge"


def task_messages(task: Task, repository: Path) -> list[Labelled]:
    """The train and dev splits of the task's corpus, borrowed negatives, knowledge wordings."""
    messages = [
        m for split in ("train", "dev") for m in read_split(repository / task.folder, split)
    ]
    for other in TASKS:
        if other.name == task.name:
            continue
        for split in ("train", "dev"):
            messages += [
                Labelled(m.text, "borrowed", m.category)
                for m in read_split(repository / other.folder, split)
                if task.borrows_everything
                or (m.category in task.borrowed_negatives and m.label != other.positive)
            ]
    messages += [
        Labelled(case.text, "borrowed", "question") for case in load_cases(repository / QUESTIONS)
    ]
    if task.ordinary_flagged is not None:
        messages += [
            Labelled(wording, KNOWLEDGE, KNOWLEDGE)
            for wording in knowledge_wordings(repository / "knowledge")
        ]
    return messages


def held_out_scores(
    task: Task, repository: Path, score: Callable[[list[str]], np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """``score`` on the task's held-out sets (never learned from), with their labels."""
    held = [m for name in task.held_out for m in read_split(repository / task.folder, name)]
    if not held:
        return None
    labels = np.array([int(m.label == task.positive) for m in held])
    return score([m.text for m in held]), labels


def threshold_for_recall(scores: np.ndarray, labels: np.ndarray, recall: float) -> float:
    """The highest threshold that keeps ``recall`` of the positives at or above it."""
    positives = np.sort(scores[labels == 1])
    allowed_misses = int(np.floor((1.0 - recall) * len(positives)))
    return float(positives[allowed_misses])


def threshold_for_false_alarms(scores: np.ndarray, labels: np.ndarray, share: float) -> float:
    """The lowest threshold at which at most ``share`` of the negatives reach it."""
    negatives = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(share * len(negatives)))
    return float(np.nextafter(negatives[allowed], 1.0)) if allowed < len(negatives) else 0.0


def raised_for_ordinary(band: float, ordinary: np.ndarray, share: float) -> float:
    """``band``, raised (never lowered) until at most ``share`` of ``ordinary`` reach it."""
    everyday = threshold_for_false_alarms(ordinary, np.zeros(len(ordinary), dtype=int), share)
    return max(band, everyday)


def flagged_share(scores: np.ndarray, labels: np.ndarray, threshold: float, label: int) -> float:
    """The share of messages with ``label`` scoring at or above ``threshold``."""
    chosen = scores[labels == label]
    return float((chosen >= threshold).mean()) if len(chosen) else 0.0


def _ngram_pipeline() -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3),
        ),
        LogisticRegression(C=16.0, class_weight="balanced", max_iter=5000),
    )


def ngram_head(pipeline: object) -> dict[str, object]:
    """The fitted n-gram pipeline as the ``NgramHead`` the bot reads."""
    union, regression = pipeline.steps[0][1], pipeline.steps[1][1]  # type: ignore[attr-defined]
    weights = regression.coef_[0]
    analyzers, offset = [], 0
    for _, vectorizer in union.transformer_list:
        vocabulary = vectorizer.vocabulary_
        terms = {
            term: [
                round(float(vectorizer.idf_[index]), 6),
                round(float(weights[offset + index]), 6),
            ]
            for term, index in vocabulary.items()
        }
        offset += len(vocabulary)
        low, high = vectorizer.ngram_range
        analyzers.append(
            {"analyzer": vectorizer.analyzer, "min_n": low, "max_n": high, "terms": terms}
        )
    return {"analyzers": analyzers, "bias": round(float(regression.intercept_[0]), 6)}


def _folds(strata: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    return list(splitter.split(np.zeros(len(strata)), strata))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_all(
    repository: Path,
    models: Path,
    recipe: Recipe,
    folds: int = 3,
    log: Callable[[str], None] = print,
) -> None:
    """Everything in the module docstring; writes ``models/``."""
    corpora = [task_messages(task, repository) for task in TASKS]
    texts = np.array([m.text for messages in corpora for m in messages], dtype=object)
    tasks = np.array([index for index, messages in enumerate(corpora) for _ in messages])
    labels = np.array(
        [
            int(m.label == task.positive)
            for task, messages in zip(TASKS, corpora, strict=False)
            for m in messages
        ]
    )
    knowledge = np.array([m.label == KNOWLEDGE for messages in corpora for m in messages])
    anchors, anchor_vectors = geometry_anchors(repository, models)
    if folds == 0:
        corpus = (texts, labels, tasks)
        _train_final_only(repository, models, recipe, corpus, (anchors, anchor_vectors), log)
        return
    encoder_scores = np.zeros(len(texts))
    ngram_scores = np.zeros(len(texts))
    for number, (fit_rows, score_rows) in enumerate(_folds(tasks * 2 + labels, folds), start=1):
        pooled = fine_tune(
            texts[fit_rows],
            labels[fit_rows],
            tasks[fit_rows],
            len(TASKS),
            recipe,
            anchors,
            anchor_vectors,
        )
        probabilities = predict(pooled, list(texts[score_rows]))
        encoder_scores[score_rows] = probabilities[np.arange(len(score_rows)), tasks[score_rows]]
        for index in range(len(TASKS)):
            fit = fit_rows[tasks[fit_rows] == index]
            score = score_rows[tasks[score_rows] == index]
            pipeline = _ngram_pipeline()
            pipeline.fit(list(texts[fit]), labels[fit])  # type: ignore[attr-defined]
            ngram_scores[score] = pipeline.predict_proba(list(texts[score]))[:, 1]  # type: ignore[attr-defined]
        log(f"fold {number}/{folds} done")
    blended = blend(encoder_scores, ngram_scores)

    log("fine-tuning on everything")
    pooled = fine_tune(texts, labels, tasks, len(TASKS), recipe, anchors, anchor_vectors)
    references, agreement = _export(pooled, models, log)
    encoder_path, tokenizer_path = models / ENCODER_FILE, models / TOKENIZER_FILE
    encoder_corpus = corpus_digest(repository, training_files())
    for index, task in enumerate(TASKS):
        rows = tasks == index
        pipeline = _ngram_pipeline()
        pipeline.fit(list(texts[rows]), labels[rows])  # type: ignore[attr-defined]
        corpus, wordings = rows & ~knowledge, rows & knowledge
        ordinary = blended[wordings] if wordings.any() else None
        held_out = held_out_scores(
            task,
            repository,
            lambda texts, index=index, pipeline=pipeline: blend(
                predict(pooled, texts)[:, index],
                pipeline.predict_proba(texts)[:, 1],  # type: ignore[attr-defined]
            ),
        )
        content = _detector(
            task, repository, blended[corpus], labels[corpus], recipe, folds, ordinary, held_out
        )
        content["training"]["encoder_sha256"] = encoder_corpus  # type: ignore[index]
        content.update(
            layers=[head_layer(pooled, index)],
            ngrams=ngram_head(pipeline),
            blend=BLEND,
            encoder={"file": ENCODER_FILE, "sha256": _sha256(encoder_path)},
            tokenizer={"file": TOKENIZER_FILE, "sha256": _sha256(tokenizer_path)},
            references=references,
        )
        content["development"]["int8_cosine_min"] = round(agreement, 4)  # type: ignore[index]
        write_detector(content, models / f"{task.name}.json")
        log(f"{task.name}: thresholds {content['thresholds']}; {content['development']}")


def geometry_anchors(repository: Path, models: Path) -> tuple[list[str], np.ndarray | None]:
    """Matching's wordings (knowledge, dev questions) and the shipped encoder's vectors.

    ``Recipe.keep_geometry`` holds the wordings there; no vectors before a first training.
    """
    encoder_path, tokenizer_path = models / ENCODER_FILE, models / TOKENIZER_FILE
    if not (encoder_path.is_file() and tokenizer_path.is_file()):
        return [], None
    questions = [case.text for case in load_cases(repository / QUESTIONS)]
    anchors = sorted({*knowledge_wordings(repository / "knowledge"), *questions})
    return anchors, SentenceEncoder(encoder_path, tokenizer_path).encode_many(anchors)


def _export(
    pooled: object, models: Path, log: Callable[[str], None]
) -> tuple[list[dict[str, object]], float]:
    """Write the int8 encoder and its tokenizer; the reference vectors that pin them."""
    encoder_path, tokenizer_path = models / ENCODER_FILE, models / TOKENIZER_FILE
    with tempfile.TemporaryDirectory() as scratch:
        export_int8(pooled, encoder_path, Path(scratch))  # type: ignore[arg-type]
    save_tokenizer(pooled, tokenizer_path)  # type: ignore[arg-type]
    references = reference_vectors(
        REFERENCE_TEXTS,
        float_vectors(pooled, REFERENCE_TEXTS),  # type: ignore[arg-type]
        SentenceEncoder(encoder_path, tokenizer_path),
    )
    agreement = int8_agreement(references)
    log(f"int8 encoder against the float model: lowest cosine {agreement:.4f}")
    if agreement < INT8_FLOOR:
        log(f"WARNING: below {INT8_FLOOR}: the exported encoder is not the float model")
    return references, agreement


def _train_final_only(
    repository: Path,
    models: Path,
    recipe: Recipe,
    corpus: tuple[np.ndarray, np.ndarray, np.ndarray],
    geometry: tuple[list[str], np.ndarray | None],
    log: Callable[[str], None],
) -> None:
    """``--folds 0``: one fine-tune on everything (a third of the time), then ``refit``.

    Without out-of-fold encoders the heads come from ``refit`` on the new encoder, and the
    check-in band from the held-out retired sets where out-of-fold scores are too sure
    (``_detector``). Needs detector files to update (a first training uses folds).
    """
    from bot.training.refit import refit_heads

    texts, labels, tasks = corpus
    anchors, anchor_vectors = geometry
    log("fine-tuning on everything (no out-of-fold rounds)")
    pooled = fine_tune(texts, labels, tasks, len(TASKS), recipe, anchors, anchor_vectors)
    references, agreement = _export(pooled, models, log)
    for task in TASKS:
        path = models / f"{task.name}.json"
        content = json.loads(path.read_text(encoding="utf-8"))
        content["encoder"] = {"file": ENCODER_FILE, "sha256": _sha256(models / ENCODER_FILE)}
        content["tokenizer"] = {
            "file": TOKENIZER_FILE,
            "sha256": _sha256(models / TOKENIZER_FILE),
        }
        content["references"] = references
        content["training"]["encoder_sha256"] = corpus_digest(repository, training_files())
        content.setdefault("development", {})["int8_cosine_min"] = round(agreement, 4)
        write_detector(content, path)
    refit_heads(repository, models.parent, [task.name for task in TASKS], log=log)
    for task in TASKS:
        path = models / f"{task.name}.json"
        content = json.loads(path.read_text(encoding="utf-8"))
        content["development"]["epochs"] = float(recipe.epochs)
        write_detector(content, path)


def _detector(
    task: Task,
    repository: Path,
    scores: np.ndarray,
    labels: np.ndarray,
    recipe: Recipe | None,
    folds: int,
    ordinary: np.ndarray | None = None,
    held_out: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, object]:
    """Thresholds and out-of-fold figures for one detector, and what it was trained on.

    ``scores`` are the corpus's out-of-fold scores; ``ordinary`` the knowledge base's own
    wordings' (out of fold too); ``held_out`` the final model's scores and labels on the
    held-out sets. ``recipe`` is None when the encoder was not fine-tuned.
    """
    lowest = threshold_for_recall(scores, labels, task.recall)
    if held_out is not None:
        # Recall first on both: out-of-fold scores are too sure of messages an encoder was
        # fine-tuned on (a final-only fine-tune then a refit put the band at 0.60, which kept
        # 96.0% of held-out crisis messages against 98.5% out of fold), so the band is the
        # lower of the two that keep the recall targets of crisis messages; or, for a task
        # without ``out_of_fold_floor``, the held-out one alone.
        held_out_recall = task.held_out_recall or task.recall
        on_held_out = threshold_for_recall(*held_out, held_out_recall)
        lowest = min(lowest, on_held_out) if task.out_of_fold_floor else on_held_out
    recall_first = lowest
    if ordinary is not None and task.ordinary_flagged is not None:
        lowest = raised_for_ordinary(lowest, ordinary, task.ordinary_flagged)
    # Written with 6 decimals, rounded towards the side the band protects: down for recall
    # (rounding up dropped the boundary crisis message), up for a false-alarm budget.
    rounded = math.floor if lowest == recall_first else math.ceil
    thresholds = {task.lowest: rounded(lowest * 1e6) / 1e6}
    if task.surer is not None:
        if held_out is not None:
            surer = threshold_for_false_alarms(*held_out, task.held_out_false_alarms)
        else:
            surer = threshold_for_false_alarms(scores, labels, task.false_alarms)
        thresholds[task.surer] = math.ceil(max(lowest, surer) * 1e6) / 1e6
    development: dict[str, float] = {
        "messages": float(len(labels)),
        "positives": float(labels.sum()),
        "folds": float(folds),
        "epochs": float(recipe.epochs if recipe is not None else 0),
    }
    if lowest != recall_first:
        development[f"{task.lowest}_recall_first"] = round(recall_first, 6)
    if ordinary is not None:
        development[f"ordinary_wordings_at_{task.lowest}"] = round(
            float((ordinary >= lowest).mean()), 4
        )
    for name, value in thresholds.items():
        development[f"recall_at_{name}"] = round(flagged_share(scores, labels, value, 1), 4)
        development[f"false_at_{name}"] = round(flagged_share(scores, labels, value, 0), 4)
        if held_out is not None:
            for label, figure in ((1, "held_out_recall"), (0, "held_out_false")):
                share = flagged_share(*held_out, value, label)
                development[f"{figure}_at_{name}"] = round(share, 4)
    files = task_files(task)
    return {
        "name": task.name,
        "positive": task.positive,
        "thresholds": thresholds,
        "training": {
            "files": files,
            "sha256": corpus_digest(repository, files),
            "messages": len(labels) + (len(ordinary) if ordinary is not None else 0),
        },
        "trained": dt.date.today().isoformat(),
        "development": development,
    }


def write_detector(content: dict[str, object], path: Path) -> None:
    """Write the detector file (compact JSON: it is data for the bot, not for editing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, separators=(",", ":")) + "\n", encoding="utf-8")
