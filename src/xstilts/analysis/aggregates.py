"""XTREME and XTREME-R aggregate scores per (architecture, intermediate setting, seed),
averaged exactly as the official scorer averages them: each task's ``avg_metric`` over
the benchmark's own language list ((EM+F1)/2 for QA), group scores over the scorer's
groups, ``all_task`` over every task. The averaging is the leaderboard module's own code
(``xstilts.evaluation.leaderboard``), fed from the run's score rows instead of files.

A task enters a benchmark's average only when every one of the benchmark's languages has
a score; a group or ``all_task`` only when every one of its tasks does (as the scorer
does), so a partial grid gives missing aggregates, never averages over fewer tasks.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pandas as pd

from xstilts.analysis.best_per_target import BEST
from xstilts.analysis.gain_tables import summarise
from xstilts.analysis.grid import Grid
from xstilts.analysis.results import TASK_METRIC
from xstilts.analysis.seed_tables import cell_status
from xstilts.evaluation.leaderboard import _avg_metric, _overall_scores, task_languages
from xstilts.study import NONE
from xstilts.tasks.catalogue import BENCHMARKS
from xstilts.tasks.languages import GROUP2TASK

AGGREGATES: dict[str, tuple[str, ...]] = {b: ("all_task", *GROUP2TASK[b]) for b in BENCHMARKS}
KEYS = ["architecture", "intermediate", "benchmark", "aggregate"]

Metrics = dict[str, dict[str, float]]  # metric -> language -> value


def metric_lookup(scores: pd.DataFrame) -> dict[tuple, Metrics]:
    """(architecture, intermediate, seed, target) -> metric -> language -> value."""
    raw = scores[scores["metric"] != TASK_METRIC]
    lookup: dict[tuple, Metrics] = defaultdict(dict)
    columns = ("architecture", "intermediate", "seed", "target", "language", "metric",
               "value")
    for arch, inter, seed, target, language, metric, value in zip(
            *(raw[c].tolist() for c in columns)):  # lists: fast to walk
        if not pd.isna(value):
            lookup[(arch, inter, int(seed), target)].setdefault(metric, {})[language] = \
                float(value)
    return lookup


def task_result(benchmark: str, task: str, metrics: Metrics | None) -> dict | None:
    """What the scorer's ``_score_task`` gives for a task, or None unless every metric has
    a value in every language of the benchmark."""
    if not metrics:
        return None
    languages = task_languages(benchmark)[task]
    result: dict = {}
    for metric, values in metrics.items():
        if any(language not in values for language in languages):
            return None
        result[metric] = {language: values[language] for language in languages}
        result[f"avg_{metric}"] = sum(result[metric].values()) / len(languages)
    result["avg_metric"] = _avg_metric(benchmark, task, result)
    return result


def overall(benchmark: str, per_task: Mapping[str, Metrics | None]) -> dict[str, float]:
    """The scorer's ``all_task`` and group scores from each task's metrics (absent ones
    are missing)."""
    detailed = {}
    for task in task_languages(benchmark):
        result = task_result(benchmark, task, per_task.get(task))
        if result is not None:
            detailed[task] = result
    return _overall_scores(benchmark, list(task_languages(benchmark)), detailed)


def aggregate_matrix(scores: pd.DataFrame, grid: Grid,
                     selection: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows (architecture, intermediate, benchmark, aggregate), columns seeds. With a
    best-per-target ``selection`` (see ``best_per_target``), each architecture also gets a
    row ``BEST`` composed of the selected setting's scores per target."""
    lookup = metric_lookup(scores)
    chosen: dict[tuple[str, str], str] = {}
    if selection is not None:
        chosen = {(r.architecture, r.target): r.selected
                  for r in selection.itertuples(index=False) if r.selected}
    settings = list(grid.intermediates) + ([BEST] if selection is not None else [])
    rows, index = [], []
    for arch, inter, benchmark in itertools.product(grid.architectures, settings, BENCHMARKS):
        values = {name: [] for name in AGGREGATES[benchmark]}
        for seed in grid.seeds:
            per_task = {}
            for task in task_languages(benchmark):
                source = chosen.get((arch, task)) if inter == BEST else inter
                per_task[task] = lookup.get((arch, source, seed, task)) if source else None
            result = overall(benchmark, per_task)
            for name in values:
                values[name].append(result.get(name, np.nan))
        for name, per_seed in values.items():
            index.append((arch, inter, benchmark, name))
            rows.append(per_seed)
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=KEYS),
                        columns=pd.Index(list(grid.seeds), name="seed"), dtype=float)


def aggregate_table(matrix: pd.DataFrame, seeds: int) -> pd.DataFrame:
    """Score and gain over the baseline (same architecture, benchmark, aggregate and seed)
    per row of ``aggregate_matrix``: mean, std and seed-bootstrap interval, and a status."""
    table = summarise(matrix, prefix="score_").rename(columns={"score_mean": "score"})
    baseline = matrix.xs(NONE, level="intermediate")
    aligned = baseline.reindex(matrix.index.droplevel("intermediate"))
    aligned.index = matrix.index
    gains = matrix - aligned
    gain = summarise(gains, prefix="gain_").rename(columns={"gain_mean": "gain"})
    is_baseline = (matrix.index.get_level_values("intermediate") == NONE)
    for column in ("gain", "gain_std", "gain_ci_low", "gain_ci_high"):
        table[column] = np.where(is_baseline, np.nan, gain[column])
    table.insert(4, "status", cell_status(matrix.to_numpy(dtype=float), None, seeds))
    table.insert(6, "expected_seeds", seeds)
    return table
