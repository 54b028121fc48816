"""Comparisons across architectures: do they rank the intermediate settings alike (Kendall
τ), do weaker baselines gain more (correlation of gain with baseline score), and how do
per-language gains vary with language family, script and resource level.

English is the training language of every target, so the per-language analyses here
(gain versus baseline, language features) use the zero-shot languages only.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from xstilts.analysis.grid import ALL, Grid
from xstilts.analysis.language_metadata import FEATURES, LANGUAGES
from xstilts.analysis.seed_tables import SeedTables, strict_mean
from xstilts.study import NONE

def _stats():
    """scipy.stats, imported when a test runs (it takes a second or two to import, which
    every pipeline task that imports the runner would otherwise pay)."""
    from scipy import stats

    return stats


SOURCE_LANGUAGE = "en"


def _seed_mean(matrix: pd.DataFrame) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.Series(np.nanmean(matrix.to_numpy(dtype=float), axis=1), index=matrix.index)


def _varies(values: pd.Series) -> bool:
    return values.nunique() > 1


def kendall(x: pd.Series, y: pd.Series) -> tuple[int, float, float]:
    """n, Kendall τ (τ-b) and its two-sided p-value over the pairs where both have a value;
    NaN for fewer than 3 pairs or a constant side."""
    both = pd.concat([x, y], axis=1).dropna()
    n = len(both)
    if n < 3 or not _varies(both.iloc[:, 0]) or not _varies(both.iloc[:, 1]):
        return n, np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _stats().kendalltau(both.iloc[:, 0], both.iloc[:, 1])
    return n, float(result.statistic), float(result.pvalue)


def rank_agreement(mean_gains: pd.DataFrame, target_gains: pd.DataFrame, grid: Grid
                   ) -> pd.DataFrame:
    """Kendall τ between every two architectures' rankings of the intermediate settings:
    by mean gain over all targets (scope "(all)") and by gain on each target."""
    overall = mean_gains[(mean_gains["group"] == ALL) & (mean_gains["intermediate"] != ALL)]
    scopes = [(ALL, overall)] + [(t, target_gains[target_gains["target"] == t])
                                 for t in grid.targets]
    rows = []
    for scope, frame in scopes:
        values = frame.pivot_table(index="intermediate", columns="architecture",
                                   values="gain", aggfunc="first", dropna=False)
        values = values.reindex(index=list(grid.settings), columns=list(grid.architectures))
        for a, b in itertools.combinations(grid.architectures, 2):
            n, tau, p = kendall(values[a], values[b])
            rows.append({"scope": scope, "architecture_a": a, "architecture_b": b,
                         "settings": n, "tau": tau, "p_value": p})
    return pd.DataFrame(rows, columns=["scope", "architecture_a", "architecture_b",
                                       "settings", "tau", "p_value"])


def language_points(tables: SeedTables) -> pd.DataFrame:
    """Per (architecture, target, zero-shot language): the baseline score and the gain
    averaged over every setting (seed means; NaN where a setting is missing)."""
    gains = strict_mean(tables.language_gains, ["architecture", "target", "language"])
    baseline = tables.language_scores.xs(NONE, level="intermediate")
    frame = pd.DataFrame({"baseline": _seed_mean(baseline.reindex(gains.index)),
                          "gain": _seed_mean(gains)}).reset_index()
    return frame[frame["language"] != SOURCE_LANGUAGE].reset_index(drop=True)


def target_points(tables: SeedTables) -> pd.DataFrame:
    """Per (architecture, target): baseline task score and gain averaged over settings."""
    gains = strict_mean(tables.target_gains, ["architecture", "target"])
    baseline = tables.target_scores.xs(NONE, level="intermediate")
    return pd.DataFrame({"baseline": _seed_mean(baseline.reindex(gains.index)),
                         "gain": _seed_mean(gains)}).reset_index()


def correlation(x: pd.Series, y: pd.Series) -> dict:
    """Spearman and Pearson correlation with two-sided p-values, over complete pairs."""
    both = pd.concat([x, y], axis=1).dropna()
    row = {"n": len(both), "spearman": np.nan, "spearman_p": np.nan, "pearson": np.nan,
           "pearson_p": np.nan}
    if len(both) >= 3 and _varies(both.iloc[:, 0]) and _varies(both.iloc[:, 1]):
        a, b = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
        with warnings.catch_warnings():  # nearly constant inputs: the value says so
            warnings.simplefilter("ignore")
            rho = _stats().spearmanr(a, b)
            r = _stats().pearsonr(a, b)
        row.update(spearman=float(rho.statistic), spearman_p=float(rho.pvalue),
                   pearson=float(r.statistic), pearson_p=float(r.pvalue))
    return row


def gain_vs_baseline(tables: SeedTables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The points and their correlations: over all zero-shot languages, per architecture,
    per target, and over (architecture, target) means."""
    points = language_points(tables)
    grid = tables.grid
    rows = [{"points": "languages", "scope": ALL,
             **correlation(points["baseline"], points["gain"])}]
    for arch in grid.architectures:
        part = points[points["architecture"] == arch]
        rows.append({"points": "languages", "scope": f"architecture={arch}",
                     **correlation(part["baseline"], part["gain"])})
    for target in grid.targets:
        part = points[points["target"] == target]
        rows.append({"points": "languages", "scope": f"target={target}",
                     **correlation(part["baseline"], part["gain"])})
    targets = target_points(tables)
    rows.append({"points": "targets", "scope": ALL,
                 **correlation(targets["baseline"], targets["gain"])})
    return points, pd.DataFrame(rows)


def language_gains(tables: SeedTables) -> pd.DataFrame:
    """Per (architecture, zero-shot language): the gain averaged over every setting and
    every target that has the language, with the language's family, script and class."""
    gains = strict_mean(tables.language_gains, ["architecture", "language"])
    frame = pd.DataFrame({"gain": _seed_mean(gains)}).reset_index()
    frame = frame[frame["language"] != SOURCE_LANGUAGE].reset_index(drop=True)
    for feature in FEATURES:
        frame[feature] = [getattr(LANGUAGES[code], feature) if code in LANGUAGES
                          else "unknown" for code in frame["language"]]
    return frame


def feature_table(per_language: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """Mean, standard deviation and number of languages of the per-language gains, per
    architecture (and over all, ALL) and per value of each language feature."""
    rows = []
    across = per_language.groupby("language", sort=True).agg(
        gain=("gain", _strict), **{f: (f, "first") for f in FEATURES}).reset_index()
    for arch, frame in [*((a, per_language[per_language["architecture"] == a])
                          for a in grid.architectures), (ALL, across)]:
        for feature in FEATURES:
            for value, group in frame.groupby(feature, sort=True):
                gains = group["gain"]
                rows.append({"architecture": arch, "feature": feature, "value": str(value),
                             "languages": len(gains), "missing": int(gains.isna().sum()),
                             "gain": _strict(gains),
                             "gain_std": gains.std(ddof=1) if gains.notna().all() else np.nan,
                             "language_list": " ".join(sorted(group["language"]))})
    return pd.DataFrame(rows, columns=["architecture", "feature", "value", "languages",
                                       "missing", "gain", "gain_std", "language_list"])


def _strict(values: pd.Series) -> float:
    """The mean, or NaN when any value is missing."""
    return float(values.mean()) if len(values) and values.notna().all() else np.nan
