"""Everything the report shows, computed once from a run's scores (and, where the run
folder has them, its per-example predictions and gold labels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xstilts.analysis.aggregates import aggregate_matrix, aggregate_table
from xstilts.analysis.best_per_target import best_per_target_table, dev_means, select_on_dev
from xstilts.analysis.bootstrap import SAMPLES, SEED
from xstilts.analysis.comparisons import (
    feature_table,
    gain_vs_baseline,
    language_gains,
    rank_agreement,
)
from xstilts.analysis.example_intervals import example_intervals
from xstilts.analysis.gain_tables import (
    language_gain_table,
    mean_gain_table,
    target_gain_table,
    target_score_table,
)
from xstilts.analysis.grid import Grid
from xstilts.analysis.seed_tables import SeedTables, seed_tables
from xstilts.analysis.significance import significance_table

EXAMPLE_COLUMNS = ["example_ci_low", "example_ci_high"]


@dataclass
class Analysis:
    """The report's tables (pandas frames in report order) and notes."""

    grid: Grid
    seeds: SeedTables
    language_gains: pd.DataFrame
    target_gains: pd.DataFrame
    target_scores: pd.DataFrame
    mean_gains: pd.DataFrame
    aggregates: pd.DataFrame
    best_per_target: pd.DataFrame
    rank_agreement: pd.DataFrame
    baseline_points: pd.DataFrame
    baseline_correlations: pd.DataFrame
    per_language: pd.DataFrame
    language_features: pd.DataFrame
    significance: pd.DataFrame
    english_dev: pd.DataFrame
    example_notes: dict[str, str] = field(default_factory=dict)


def _with_examples(table: pd.DataFrame, intervals: pd.DataFrame, keys: list[str]
                   ) -> pd.DataFrame:
    """The table with example-bootstrap interval columns (NaN where not available)."""
    if intervals.empty:
        return table.assign(**{c: float("nan") for c in EXAMPLE_COLUMNS})
    intervals = intervals.astype({c: float for c in EXAMPLE_COLUMNS})
    return table.merge(intervals, on=keys, how="left", validate="one_to_one")


def analyse(config: Any, scores: pd.DataFrame, dev: list[dict] | None = None,
            predictions: Path | None = None, labels: Sequence[Path] = (),
            example_bootstrap: bool = True, samples: int = SAMPLES, seed: int = SEED
            ) -> Analysis:
    """Compute every table of the report."""
    grid = Grid.of(config, scores)
    tables = seed_tables(scores, grid)
    by_language = language_gain_table(tables, samples, seed)
    by_target = target_gain_table(tables, samples, seed)
    if example_bootstrap:
        examples = example_intervals(tables, predictions, labels, samples, seed)
        notes = examples.notes
        by_language = _with_examples(by_language, examples.languages,
                                     ["architecture", "intermediate", "target", "language"])
        by_target = _with_examples(by_target, examples.targets,
                                   ["architecture", "intermediate", "target"])
    else:
        notes = {t: "not computed (switched off)" for t in grid.targets}
        by_language = _with_examples(by_language, pd.DataFrame(), [])
        by_target = _with_examples(by_target, pd.DataFrame(), [])
    means = mean_gain_table(tables, samples, seed)
    selection = select_on_dev(dev or [], grid)
    aggregates = aggregate_table(aggregate_matrix(scores, grid, selection), len(grid.seeds))
    points, correlations = gain_vs_baseline(tables)
    per_language = language_gains(tables)
    english = dev_means(dev or [])
    return Analysis(
        grid=grid, seeds=tables,
        language_gains=grid.sort(by_language, ["architecture", "intermediate", "target",
                                               "language"]),
        target_gains=grid.sort(by_target, ["architecture", "intermediate", "target"]),
        target_scores=grid.sort(target_score_table(tables, samples, seed),
                                ["architecture", "intermediate", "target"]),
        mean_gains=grid.sort(means, ["architecture", "intermediate", "group"]),
        aggregates=aggregates,
        best_per_target=best_per_target_table(selection, by_target, grid),
        rank_agreement=rank_agreement(means, by_target, grid),
        baseline_points=grid.sort(points, ["architecture", "target", "language"]),
        baseline_correlations=correlations,
        per_language=grid.sort(per_language, ["architecture", "language"]),
        language_features=feature_table(per_language, grid),
        significance=significance_table(tables, per_language),
        english_dev=grid.sort(english, ["architecture", "intermediate", "target"]),
        example_notes=notes)
