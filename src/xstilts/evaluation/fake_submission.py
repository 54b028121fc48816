"""Generate a random, realistic-size submission: a label folder and a prediction folder.

The scoring speed test and ``benchmarks/bench_score.py`` both use it. Sizes follow the
real test sets, and the answers mix scripts, articles and Unicode punctuation, so that
every normalisation path runs. The files are written with ``write_task_file``, so the
generator also exercises the exporter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.evaluation.leaderboard import task_languages, write_task_file
from xstilts.tasks.catalogue import BINARY_LABELS, NER_TAGS, NLI_LABELS, UPOS_TAGS
from xstilts.tasks.languages import LAREQA_LANGUAGES

# (rng, size, language) -> (labels, predictions)
ExampleGenerator = Callable[[np.random.Generator, int, str], tuple[Any, Any]]

# Examples per language: test-set sizes of the real tasks (UD-POS capped at 2000 sentences).
FULL_SIZES: dict[str, int] = {
    "pawsx": 2000, "xnli": 5010, "panx": 10000, "udpos": 2000, "bucc2018": 2000,
    "tatoeba": 1000, "xquad": 1190, "mlqa": 5000, "tydiqa": 1000, "xcopa": 500,
    "mewslix": 1000, "lareqa": 1190,
}
# PAN-X languages whose test split has 1000 sentences instead of 10000.
_PANX_SMALL = frozenset("jv ms tl ml ta te af bn hi mr ur sw yo my kk qu pa gu".split())

_WORDS = (
    "the", "a", "an", "el", "los", "una", "der", "die", "das", "của", "những", "الكتاب",
    "القاهرة", "نهر", "नदी", "शहर", "北京", "大学", "河流", "Paris", "Tokyo", "1990",
    "river", "«city»", "town,", "「name」", "、", "alpha", "beta", "(gamma)",
)


def write_fake_submission(
    root: Path, benchmark: str = "xtreme", seed: int = 0, scale: float = 1.0
) -> tuple[Path, Path]:
    """Write ``root/predictions`` and ``root/labels`` for every task and language.

    ``scale`` multiplies every size (at least one example each), for quick small runs.
    Returns (prediction folder, label folder).
    """
    rng = np.random.default_rng(seed)
    predictions, labels = Path(root) / "predictions", Path(root) / "labels"
    for task, languages in task_languages(benchmark).items():
        for language in languages:
            size = max(1, round(_full_size(task, language) * scale))
            gold, predicted = _GENERATORS[task](rng, size, language)
            write_task_file(labels, task, language, gold, "labels")
            write_task_file(predictions, task, language, predicted, "predictions")
    return predictions, labels


def _full_size(task: str, language: str) -> int:
    if task == "panx" and language in _PANX_SMALL:
        return 1000
    return FULL_SIZES[task]


def _noisy(rng: np.random.Generator, gold: np.ndarray, classes: int, keep: float) -> np.ndarray:
    """Copy ``gold`` but replace about ``1 - keep`` of it with random classes."""
    return np.where(rng.random(gold.size) < keep, gold, rng.integers(classes, size=gold.size))


def _classes(values: Sequence[str]) -> ExampleGenerator:
    def generate(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
        gold = rng.integers(len(values), size=size)
        predicted = _noisy(rng, gold, len(values), 0.8)
        return [values[i] for i in gold], [values[i] for i in predicted]

    return generate


def _indices(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
    """Tatoeba-style target indices."""
    gold = rng.permutation(size)
    return gold.tolist(), _noisy(rng, gold, size, 0.8).tolist()


def _binary_choice(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
    gold = rng.integers(2, size=size)
    return gold.tolist(), _noisy(rng, gold, 2, 0.7).tolist()


def _tags(tagset: Sequence[str], lengths: tuple[int, int], o_share: float) -> ExampleGenerator:
    """Sentences of random tags; ``o_share`` of gold tokens take the first tag."""
    weights = np.full(len(tagset), (1 - o_share) / (len(tagset) - 1))
    weights[0] = o_share

    def generate(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
        sentence_lengths = rng.integers(lengths[0], lengths[1] + 1, size=size)
        gold = rng.choice(len(tagset), size=int(sentence_lengths.sum()), p=weights)
        predicted = _noisy(rng, gold, len(tagset), 0.9)
        return _sentences(tagset, gold, sentence_lengths), _sentences(
            tagset, predicted, sentence_lengths
        )

    return generate


def _sentences(tagset: Sequence[str], codes: np.ndarray, lengths: np.ndarray) -> list[list[str]]:
    tags = np.array(tagset, dtype=object)[codes].tolist()
    ends = np.cumsum(lengths).tolist()
    return [tags[start:end] for start, end in zip([0, *ends[:-1]], ends)]


def _bucc(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
    targets = rng.permutation(size * 5)[:size]
    gold = [f"{language}-{i:06d}\ten-{j:06d}" for i, j in enumerate(targets.tolist())]
    found = [pair for pair, keep in zip(gold, rng.random(size) < 0.85) if keep]
    strays = rng.integers(size * 5, size=size // 10).tolist()
    wrong = [f"{language}-{i:06d}\ten-{j:06d}" for i, j in enumerate(strays)]
    duplicates = found[: size // 20]
    return gold, found + wrong + duplicates


def _phrase(rng: np.random.Generator) -> str:
    return " ".join(_WORDS[i] for i in rng.integers(len(_WORDS), size=rng.integers(1, 5)))


def _predict_answer(rng: np.random.Generator, answer: str) -> str | None:
    """Exact, case/punctuation variant, partial overlap, wrong, or missing (None)."""
    draw = rng.random()
    if draw < 0.03:
        return None
    if draw < 0.5:
        return answer
    if draw < 0.6:
        return answer.upper() + "."
    if draw < 0.8:
        return f"{answer} {_phrase(rng)}"
    return _phrase(rng)


def _qa(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
    """SQuAD data with five questions per paragraph and ten paragraphs per article."""
    paragraphs: list[dict[str, Any]] = []
    predictions: dict[str, str] = {}
    for index in range(size):
        qid = f"{language}-{index:06d}"
        answers = [_phrase(rng) for _ in range(rng.integers(1, 4))]
        if index % 5 == 0:
            paragraphs.append({"context": " ".join(answers), "qas": []})
        paragraphs[-1]["qas"].append({
            "id": qid, "question": f"question {index}?",
            "answers": [{"text": text, "answer_start": 0} for text in answers],
        })
        predicted = _predict_answer(rng, answers[0])
        if predicted is not None:
            predictions[qid] = predicted
    articles = [
        {"title": f"article {start}", "paragraphs": paragraphs[start:start + 10]}
        for start in range(0, len(paragraphs), 10)
    ]
    return articles, predictions


def _ranked(rng: np.random.Generator, prefix: str, golds: list[str]) -> list[str]:
    """25 random candidates (beyond the top 20), with the golds placed at random ranks."""
    ranked = [f"{prefix}{q}" for q in rng.integers(10**6, size=25).tolist()]
    for gold, rank in zip(golds, rng.integers(30, size=len(golds)).tolist()):
        if rank < len(ranked):
            ranked[rank] = gold
    return ranked


def _mewslix(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
    gold: dict[str, list[str]] = {}
    predicted: dict[str, list[str]] = {}
    for index, entity in enumerate(rng.integers(10**6, size=size).tolist()):
        example = f"{language}-{index:06d}"
        gold[example] = [f"Q{entity}"]
        predicted[example] = _ranked(rng, "Q", gold[example])
    return gold, predicted


def _lareqa(rng: np.random.Generator, size: int, language: str) -> tuple[Any, Any]:
    """One gold answer sentence per LAReQA language for each question."""
    gold: dict[str, list[str]] = {}
    predicted: dict[str, list[str]] = {}
    for index in range(size):
        question = f"{language}-{index:06d}"
        gold[question] = [f"{lang}_{index}" for lang in LAREQA_LANGUAGES]
        predicted[question] = _ranked(rng, "c", gold[question])
    return gold, predicted


_GENERATORS: dict[str, ExampleGenerator] = {
    "pawsx": _classes(BINARY_LABELS),
    "xnli": _classes(NLI_LABELS),
    "panx": _tags(NER_TAGS, (3, 12), o_share=0.7),
    "udpos": _tags(UPOS_TAGS, (5, 30), o_share=1 / len(UPOS_TAGS)),
    "bucc2018": _bucc,
    "tatoeba": _indices,
    "xquad": _qa,
    "mlqa": _qa,
    "tydiqa": _qa,
    "xcopa": _binary_choice,
    "mewslix": _mewslix,
    "lareqa": _lareqa,
}
