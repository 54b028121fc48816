"""Per-example parts of a leaderboard score, so the score can be bootstrapped over test
examples.

Every task score the scorer computes is a ratio of sums over units: accuracy, (EM+F1)/2,
MRR@20 and mAP@20 are means over examples (denominator 1 each); seqeval's entity F1 and
BUCC's pair F1 are 2·TP / (predicted + gold), summed over sentences (tagging) or source
sentences (BUCC). A unit's (numerator, denominator) pair is computed here with the
scorer's own readers and metric functions, so the sums reproduce the reported score; the
report checks that they do before it uses them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# The scorer's own file readers and seqeval chunking: the per-example parts must be read
# and chunked exactly as the scorer does.
from xstilts.evaluation.leaderboard import (
    TASK_FORMATS,
    RETRIEVAL_K,
    read_json,
    read_squad,
    read_tag_lines,
    read_xcopa,
    stripped_lines,
)
from xstilts.evaluation.metrics import (
    ChunkTables,
    aligned_tag_ids,
    map_at_k,
    mlqa_em_f1,
    mrr_at_k,
    squad_em_f1,
)

Parts = tuple[np.ndarray, np.ndarray]  # numerator and denominator per unit, units × files


def suffix(task: str) -> str:
    """The leaderboard file extension of a task."""
    return TASK_FORMATS[task].suffix


def _stack(columns: list[np.ndarray]) -> np.ndarray:
    return np.stack(columns, axis=1).astype(float) if columns else np.zeros((0, 0))


def _matching_lines(gold: Sequence[Any], files: Sequence[Path],
                    read: Callable[[Path], Sequence[Any]]) -> Parts:
    """Accuracy parts: 100 for a prediction equal to the gold line, else 0."""
    columns = []
    for path in files:
        predicted = read(path)
        if len(predicted) != len(gold):
            raise ValueError(f"{path}: {len(predicted)} examples, gold has {len(gold)}")
        columns.append(np.fromiter((p == g for p, g in zip(predicted, gold)), dtype=bool,
                                   count=len(gold)) * 100.0)
    numerator = _stack(columns)
    return numerator, np.ones_like(numerator)


@functools.lru_cache(maxsize=64)
def _chunk_tables(names: tuple[str, ...]) -> ChunkTables:
    return ChunkTables(list(names))


def tag_counts(gold: Sequence[str], predicted: Sequence[str]) -> np.ndarray:
    """Per sentence: correct, predicted and gold chunks as seqeval counts them (tags laid
    out as in a tag file, each sentence followed by ""), sentences × 3."""
    names, gold_ids, predicted_ids = aligned_tag_ids(gold, predicted)
    tables = _chunk_tables(tuple(names))
    gold_keys = tables.chunk_keys(gold_ids)
    predicted_keys = tables.chunk_keys(predicted_ids)
    correct = np.intersect1d(gold_keys, predicted_keys, assume_unique=True)
    size = gold_ids.size
    sentence_at = np.cumsum(gold_ids == 0)  # sentences closed before each position
    sentences = int((gold_ids[:-1] == 0).sum())

    def per_sentence(keys: np.ndarray) -> np.ndarray:
        last_token = (keys // tables.type_count) % size
        return np.bincount(sentence_at[last_token], minlength=sentences)

    return np.stack([per_sentence(correct), per_sentence(predicted_keys),
                     per_sentence(gold_keys)], axis=1)


def _tagging(label_file: Path, files: Sequence[Path]) -> Parts:
    gold = read_tag_lines(label_file)
    numerators, denominators = [], []
    for path in files:
        counts = tag_counts(gold, read_tag_lines(path))
        numerators.append(200.0 * counts[:, 0])
        denominators.append(counts[:, 1] + counts[:, 2])
    return _stack(numerators), _stack(denominators)


def _pairs(lines: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(line.split("\t")) for line in lines}


def _bucc(label_file: Path, files: Sequence[Path]) -> Parts:
    """Units are source sentences (of the gold or of any prediction file)."""
    gold = _pairs(stripped_lines(label_file))
    predicted = [_pairs(stripped_lines(path)) for path in files]
    sources = sorted({p[0] for p in gold}.union(*({p[0] for p in s} for s in predicted)))
    position = {source: i for i, source in enumerate(sources)}

    def count(pairs: set[tuple[str, ...]]) -> np.ndarray:
        return np.bincount([position[p[0]] for p in pairs],
                           minlength=len(sources)).astype(float)

    gold_count = count(gold)
    numerators = [200.0 * count(gold & pairs) for pairs in predicted]
    denominators = [count(pairs) + gold_count for pairs in predicted]
    return _stack(numerators), _stack(denominators)


def _questions(dataset: list[dict]) -> list[dict]:
    return [qa for article in dataset for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]]


def _qa(task: str, language: str, label_file: Path, files: Sequence[Path]) -> Parts:
    """(EM + F1) / 2 per question, scored one question at a time by the scorer's metric."""
    questions = _questions(read_squad(label_file))

    def metric(qa: dict, answer: str | None) -> float:
        dataset = [{"paragraphs": [{"qas": [qa]}]}]
        predictions = {} if answer is None else {qa["id"]: answer}
        if task == "mlqa":
            scores = mlqa_em_f1(dataset, predictions, language)
        else:
            scores = squad_em_f1(dataset, predictions)
        return (scores["exact_match"] + scores["f1"]) / 2

    seen: dict[tuple[int, str | None], float] = {}  # models often give the same answer
    columns = []
    for path in files:
        predictions = read_squad(path)
        if not isinstance(predictions, dict):
            raise ValueError(f"{path}: not a JSON object of answers")
        column = np.empty(len(questions))
        for index, qa in enumerate(questions):
            answer = predictions.get(qa["id"])
            key = (index, answer)
            if key not in seen:
                seen[key] = metric(qa, answer)
            column[index] = seen[key]
        columns.append(column)
    numerator = _stack(columns)
    return numerator, np.ones_like(numerator)


def _ranking(label_file: Path, files: Sequence[Path], read: Callable[[Path], Any],
             metric: Callable[..., float]) -> Parts:
    """MRR@20 (Mewsli-X) or AP@20 (LAReQA) per query, ×100."""
    gold = read(label_file)
    columns = []
    for path in files:
        predictions = read(path)
        columns.append(np.array([100.0 * metric({key: value}, predictions, k=RETRIEVAL_K)
                                 for key, value in gold.items()]))
    numerator = _stack(columns)
    return numerator, np.ones_like(numerator)


def example_parts(task: str, language: str, label_file: Path, files: Sequence[Path]
                  ) -> Parts:
    """Per-unit (numerator, denominator), units × prediction files, of ``task``'s score in
    ``language``; ``sum(numerator) / sum(denominator)`` is each file's task score.
    Raises ``ValueError`` (or the scorer's ``UserError``) for files that do not fit."""
    if task in ("xnli", "pawsx", "tatoeba"):
        return _matching_lines(stripped_lines(label_file), files, stripped_lines)
    if task == "xcopa":
        return _matching_lines(read_xcopa(label_file), files, read_xcopa)
    if task in ("panx", "udpos"):
        return _tagging(label_file, files)
    if task == "bucc2018":
        return _bucc(label_file, files)
    if task in ("xquad", "mlqa", "tydiqa"):
        return _qa(task, language, label_file, files)
    if task == "mewslix":
        return _ranking(label_file, files, read_squad, mrr_at_k)
    if task == "lareqa":
        return _ranking(label_file, files, read_json, map_at_k)
    raise ValueError(f"no per-example scores for task {task!r}")


def scores_of(parts: Parts) -> np.ndarray:
    """The task score of each file (column) from its parts."""
    numerator, denominator = parts
    top, bottom = numerator.sum(axis=0), denominator.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / bottom, 0.0)
