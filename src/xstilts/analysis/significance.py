"""Which differences are significant: paired tests, corrected for multiple comparisons
within each family of tests (Holm's step-down for the family-wise error; Benjamini–Hochberg
q-values beside it).

Families:

* "gain (seeds)": per (architecture, setting, target), a paired t-test over seeds of the
  target score with and without intermediate training (one-sample t on the per-seed gains).
* "gain (languages)": the same cells, a Wilcoxon signed-rank test over the target's
  languages of the seed-mean gains (paired by language).
* "architectures (languages)": per pair of architectures and target, Wilcoxon over
  languages of the difference in gain (averaged over settings); scope "(all)" pairs the
  per-target gains of every (setting, target) instead.
* "language features": per architecture, Kruskal–Wallis across language families and
  across scripts, and Spearman ρ of gain with the Joshi resource class.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from xstilts.analysis.grid import ALL, Grid
from xstilts.analysis.seed_tables import SeedTables, strict_mean

def _stats():
    """scipy.stats, imported when a test runs (it takes a second or two to import, which
    every pipeline task that imports the runner would otherwise pay)."""
    from scipy import stats

    return stats


ALPHA = 0.05
COLUMNS = ["family", "test", "architecture", "architecture_b", "intermediate", "target",
           "feature", "n", "estimate", "statistic", "p_value", "p_holm", "q_bh",
           "significant"]
MIN_PAIRS = 5  # a signed-rank test needs this many non-zero differences to mean anything


def _ranked(p_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, an all-NaN result, the indices of the real tests in ascending p order)."""
    p = np.asarray(p_values, dtype=float)
    tested = np.flatnonzero(~np.isnan(p))
    return p, np.full(p.shape, np.nan), tested[np.argsort(p[tested], kind="stable")]


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (NaN entries are not tests and stay NaN)."""
    p, adjusted, order = _ranked(p_values)
    m = order.size
    if m:
        steps = (m - np.arange(m)) * p[order]
        adjusted[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return adjusted


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values (NaN entries stay NaN)."""
    p, adjusted, order = _ranked(p_values)
    m = order.size
    if m:
        ranked = p[order] * m / np.arange(1, m + 1)
        adjusted[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return adjusted
    order = tested[np.argsort(p[tested], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return adjusted


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def t_tests(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: one-sample t statistic and two-sided p against 0 over the row's values
    (NaN = missing seed), computed for all rows at once; NaN for rows with fewer than two
    values or none varying."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n = (~np.isnan(values)).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        std = np.nanstd(values, axis=1, ddof=1)
        statistic = mean / (std / np.sqrt(n))
    usable = (n >= 2) & (std > 0)
    statistic = np.where(usable, statistic, np.nan)
    p = np.where(usable, 2 * _stats().t.sf(np.abs(statistic), np.maximum(n - 1, 1)), np.nan)
    return statistic, p


def signed_rank(differences: np.ndarray) -> tuple[float, float]:
    """Wilcoxon signed-rank statistic and two-sided p (NaN with fewer than MIN_PAIRS
    non-zero differences, or any difference missing)."""
    if differences.size == 0 or np.isnan(differences).any():
        return np.nan, np.nan
    if np.count_nonzero(differences) < MIN_PAIRS:
        return np.nan, np.nan
    # Exact null distribution without ties or zeros (n ≤ 50); otherwise the normal
    # approximation with tie correction (scipy's default there is a permutation test,
    # far too slow for a grid of tests).
    plain = differences.size <= 50 and np.unique(np.abs(differences)).size == \
        differences.size and np.count_nonzero(differences) == differences.size
    result = _quiet(_stats().wilcoxon, differences, method="exact" if plain else "approx")
    return float(result.statistic), float(result.pvalue)


def _seed_mean(matrix: pd.DataFrame) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.Series(np.nanmean(matrix.to_numpy(dtype=float), axis=1), index=matrix.index)


def gain_tests(tables: SeedTables) -> list[dict]:
    """The "gain (seeds)" and "gain (languages)" families."""
    rows = []
    language_means = _seed_mean(tables.language_gains)
    by_cell = {key: group.to_numpy() for key, group in language_means.groupby(
        level=["architecture", "intermediate", "target"], sort=False)}
    matrix = tables.target_gains.to_numpy(dtype=float)
    t_statistics, t_p = t_tests(matrix)
    for (arch, inter, target), values, statistic, p in zip(
            tables.target_gains.index, matrix, t_statistics, t_p):
        base = {"architecture": arch, "intermediate": inter, "target": target}
        rows.append({"family": "gain (seeds)", "test": "paired t over seeds", **base,
                     "n": int((~np.isnan(values)).sum()), "estimate": _nanmean(values),
                     "statistic": float(statistic), "p_value": float(p)})
        differences = by_cell.get((arch, inter, target), np.array([]))
        statistic, p = signed_rank(differences)
        rows.append({"family": "gain (languages)", "test": "Wilcoxon over languages",
                     **base, "n": int(differences.size),
                     "estimate": _nanmean(differences), "statistic": statistic,
                     "p_value": p})
    return rows


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)) if (~np.isnan(values)).any() else np.nan


def architecture_tests(tables: SeedTables) -> list[dict]:
    """The "architectures (languages)" family."""
    grid: Grid = tables.grid
    per_language = _seed_mean(strict_mean(tables.language_gains,
                                          ["architecture", "target", "language"]))
    per_cell = _seed_mean(tables.target_gains)
    rows = []
    for a, b in itertools.combinations(grid.architectures, 2):
        pairs = [(target, per_language.xs((a, target), level=["architecture", "target"]),
                  per_language.xs((b, target), level=["architecture", "target"]))
                 for target in grid.targets]
        cell_a = per_cell.xs(a, level="architecture")
        cell_b = per_cell.xs(b, level="architecture")
        pairs.append((ALL, cell_a, cell_b))
        for target, left, right in pairs:
            differences = (left - right.reindex(left.index)).to_numpy(dtype=float)
            statistic, p = signed_rank(differences)
            rows.append({"family": "architectures (languages)",
                         "test": "Wilcoxon over languages" if target != ALL
                         else "Wilcoxon over (setting, target) cells",
                         "architecture": a, "architecture_b": b, "target": target,
                         "n": int(differences.size), "estimate": _nanmean(differences),
                         "statistic": statistic, "p_value": p})
    return rows


def feature_tests(per_language: pd.DataFrame, grid: Grid) -> list[dict]:
    """The "language features" family, from ``comparisons.language_gains``."""
    rows = []
    for arch in grid.architectures:
        frame = per_language[per_language["architecture"] == arch]
        complete = frame["gain"].notna().all() and len(frame) > 0
        for feature in ("family", "script"):
            groups = [g["gain"].to_numpy() for _, g in frame.groupby(feature, sort=True)]
            statistic = p = np.nan
            if complete and len(groups) >= 2 and np.ptp(frame["gain"]) > 0:
                result = _quiet(_stats().kruskal, *groups)
                statistic, p = float(result.statistic), float(result.pvalue)
            rows.append({"family": "language features", "test": "Kruskal-Wallis",
                         "architecture": arch, "feature": feature, "n": len(frame),
                         "estimate": np.nan, "statistic": statistic, "p_value": p})
        rho = p = np.nan
        classes = frame["joshi_class"].astype(float)
        if complete and len(frame) >= 3 and classes.nunique() > 1 and np.ptp(frame["gain"]) > 0:
            result = _quiet(_stats().spearmanr, classes, frame["gain"])
            rho, p = float(result.statistic), float(result.pvalue)
        rows.append({"family": "language features", "test": "Spearman with Joshi class",
                     "architecture": arch, "feature": "joshi_class", "n": len(frame),
                     "estimate": rho, "statistic": rho, "p_value": p})
    return rows


def significance_table(tables: SeedTables, per_language: pd.DataFrame) -> pd.DataFrame:
    """Every test, with Holm-adjusted p, BH q and "significant" (Holm p < ALPHA) computed
    within each family."""
    frame = pd.DataFrame(gain_tests(tables) + architecture_tests(tables)
                         + feature_tests(per_language, tables.grid), columns=COLUMNS)
    for family, rows in frame.groupby("family", sort=False).groups.items():
        p = frame.loc[rows, "p_value"].to_numpy(dtype=float)
        frame.loc[rows, "p_holm"] = holm(p)
        frame.loc[rows, "q_bh"] = benjamini_hochberg(p)
    frame["significant"] = frame["p_holm"].astype(float) < ALPHA
    text = ["architecture_b", "intermediate", "target", "feature"]
    for column in text:
        frame[column] = [value if isinstance(value, str) else "" for value in frame[column]]
    return frame
