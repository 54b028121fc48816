"""A constructed study grid with known gains: score rows shaped like the evaluation
stage's (the same metrics per task), for the report's benchmark and tests. Not data: every
number is a formula of the cell, so a test knows the answer.

Each per-language score is ``base + gain + noise``: ``base`` depends on architecture and
language, ``gain`` comes from ``effect(architecture, intermediate, target)`` (0 for the
baseline), ``noise`` is seeded normal noise per row (0 by default).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from xstilts.study import NONE, StudyConfig
from xstilts.tasks.catalogue import CATALOGUE

Effect = Callable[[str, str, str], float]

ARCHITECTURES = ("mbert", "xlmr-base", "xlmr-large", "mt5-base", "mt5-large")
INTERMEDIATES = (NONE, "anli_plus", "mnli", "qqp", "squad_v1", "squad_v2", "hellaswag",
                 "cosmos_qa", "commonsense_qa", "ccg", "all")


def metrics_of(target: str) -> tuple[str, ...]:
    """The metrics the evaluation stage writes for a target."""
    task = CATALOGUE[target]
    if task.type == "span_qa":
        return ("exact_match", "f1")
    if task.type == "tagging" or target == "bucc2018":
        return ("f1", "precision", "recall")
    if task.metric == "map@20":
        return ("map@20",)
    return ("accuracy",)


def default_effect(architecture: str, intermediate: str, target: str) -> float:
    """A deterministic gain per cell, in points: differs by architecture, setting and
    target so rankings and groups have something to find."""
    if intermediate == NONE:
        return 0.0
    a = sum(map(ord, architecture)) % 7
    i = sum(map(ord, intermediate)) % 11
    t = sum(map(ord, target)) % 5
    return round(0.5 * i - 1.0 + 0.3 * a - 0.4 * t, 3)


def _base(architecture: str, language: str) -> float:
    return 40.0 + 3.0 * (sum(map(ord, architecture)) % 5) + (sum(map(ord, language)) % 17)


def constructed_rows(architectures: Sequence[str] = ARCHITECTURES,
                     intermediates: Sequence[str] = INTERMEDIATES,
                     targets: Sequence[str] = ("xnli",), seeds: Sequence[int] = (0, 1, 2),
                     effect: Effect = default_effect, noise: float = 0.0,
                     languages: dict[str, Sequence[str]] | None = None, rng_seed: int = 0
                     ) -> list[dict]:
    """Score rows (architecture, intermediate, seed, target, language, metric, value)
    whose task score is ``base + effect + noise`` in every language of each target (all
    the languages the evaluation stage scores, unless ``languages`` narrows them)."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for target in targets:
        langs = (languages or {}).get(target) or CATALOGUE[target].all_languages()
        metrics = metrics_of(target)
        for arch in architectures:
            for inter in intermediates:
                gain = effect(arch, inter, target)
                for seed in seeds:
                    shake = rng.normal(0.0, noise, size=len(langs)) if noise else \
                        np.zeros(len(langs))
                    for language, jitter in zip(langs, shake):
                        score = _base(arch, language) + gain + float(jitter)
                        for metric in metrics:
                            value = {"exact_match": score - 5.0, "precision": score + 1.0,
                                     "recall": score - 1.0}.get(metric, score)
                            if metric == "f1" and "exact_match" in metrics:
                                value = score + 5.0
                            rows.append({"architecture": arch, "intermediate": inter,
                                         "seed": seed, "target": target, "language": language,
                                         "metric": metric, "value": value})
    return rows


def constructed_config(architectures: Sequence[str] = ARCHITECTURES,
                       intermediates: Sequence[str] = INTERMEDIATES,
                       targets: Sequence[str] = ("xnli",), seeds: Sequence[int] = (0, 1, 2),
                       name: str = "constructed") -> StudyConfig:
    """A study config for the constructed grid (nothing is trained from it)."""
    return StudyConfig.model_validate({
        "name": name, "architectures": list(architectures),
        "intermediate": list(intermediates), "targets": list(targets), "seeds": list(seeds),
        "recipe": "jiant"})


def constructed_dev(architectures: Sequence[str] = ARCHITECTURES,
                    intermediates: Sequence[str] = INTERMEDIATES,
                    targets: Sequence[str] = ("xnli",), seeds: Sequence[int] = (0, 1, 2),
                    dev_effect: Effect = default_effect) -> list[dict]:
    """English dev rows as run.json lists them: one per trained target model (XQuAD's
    model serves MLQA; BUCC and Tatoeba train none)."""
    from xstilts.study import trains_target, training_of

    rows, models = [], {}
    for target in targets:
        task = CATALOGUE[target]
        if trains_target(task):
            models.setdefault(training_of(task), target)
    for arch in architectures:
        for inter in intermediates:
            for seed in seeds:
                for target in models.values():
                    rows.append({"architecture": arch, "intermediate": inter, "seed": seed,
                                 "target": target,
                                 "dev_score": 70.0 + dev_effect(arch, inter, target)})
    return rows
