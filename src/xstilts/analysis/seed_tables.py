"""Per-seed matrices of a run's task scores and gains: one row per cell, one column per
seed, NaN where the run has no value. Every summary in the report is computed from these,
per seed first and over seeds last, so a missing cell stays missing (NaN) all the way up.

A mean over several cells (languages of a target, targets of a group) is NaN for a seed
unless every cell has a value for that seed: averaging over what happens to be there would
silently change what the number means.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xstilts.analysis.grid import Grid
from xstilts.analysis.results import TASK_METRIC
from xstilts.study import NONE

LANGUAGE_KEYS = ["architecture", "intermediate", "target", "language"]
TARGET_KEYS = ["architecture", "intermediate", "target"]


def strict_mean(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean over the rows of each group, per column; NaN where any row of the group is NaN."""
    grouped = frame.groupby(level=by, sort=False)
    mean = grouped.mean()
    incomplete = frame.isna().groupby(level=by, sort=False).any()
    return mean.mask(incomplete)


def subtract_baseline(frame: pd.DataFrame) -> pd.DataFrame:
    """Each intermediate setting's rows minus the same architecture's (and seed's) NONE
    rows; the result has no NONE rows."""
    baseline = frame.xs(NONE, level="intermediate")
    others = frame[frame.index.get_level_values("intermediate") != NONE]
    aligned = baseline.reindex(others.index.droplevel("intermediate"))
    aligned.index = others.index
    return others - aligned


@dataclass(frozen=True)
class SeedTables:
    """Task scores and gains per cell and seed, on the full grid."""

    grid: Grid
    language_scores: pd.DataFrame  # (architecture, intermediate, target, language) × seed
    target_scores: pd.DataFrame  # (architecture, intermediate, target) × seed
    language_gains: pd.DataFrame  # as language_scores, without NONE
    target_gains: pd.DataFrame  # as target_scores, without NONE
    languages_present: pd.Series  # per (architecture, intermediate, target): languages seen

    @property
    def seeds(self) -> list[int]:
        return list(self.grid.seeds)


def seed_tables(scores: pd.DataFrame, grid: Grid) -> SeedTables:
    """Build the matrices from a scores table (its ``task_score`` rows)."""
    task = scores[scores["metric"] == TASK_METRIC]
    wide = task.pivot_table(index=LANGUAGE_KEYS, columns="seed", values="value",
                            aggfunc="first")
    rows = [(a, i, t, lang) for a, i, t in itertools.product(
        grid.architectures, grid.intermediates, grid.targets) for lang in grid.languages[t]]
    index = pd.MultiIndex.from_tuples(rows, names=LANGUAGE_KEYS)
    language_scores = wide.reindex(index=index, columns=list(grid.seeds)).astype(float)
    language_scores.columns.name = "seed"
    target_scores = strict_mean(language_scores, TARGET_KEYS)
    present = language_scores.notna().any(axis=1).groupby(level=TARGET_KEYS, sort=False).sum()
    return SeedTables(grid=grid, language_scores=language_scores,
                      target_scores=target_scores,
                      language_gains=subtract_baseline(language_scores),
                      target_gains=subtract_baseline(target_scores),
                      languages_present=present)


def cell_status(scores: np.ndarray, baseline: np.ndarray | None, seeds: int) -> np.ndarray:
    """One flag per row: "missing" (no score), "no baseline" (score but no NONE score),
    "fewer seeds (k/n)" (fewer seeds than the config asks for), else "ok". ``scores`` and
    ``baseline`` are rows × seeds (baseline None for the baseline's own rows)."""
    have = ~np.isnan(scores)
    both = have if baseline is None else have & ~np.isnan(baseline)
    n_score = have.sum(axis=1)
    n_both = both.sum(axis=1)
    status = np.array([f"fewer seeds ({k}/{seeds})" if k < seeds else "ok" for k in n_both],
                      dtype=object)
    if baseline is not None:
        status[(n_score > 0) & (n_both == 0)] = "no baseline"
    status[n_score == 0] = "missing"
    return status
