"""The report's gain tables: per language, per target, and averaged over settings and task
groups, each with the mean and standard deviation over seeds and a 95% seed-bootstrap
interval, and a status flag for missing cells and cells with fewer seeds than asked for.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from xstilts.analysis.bootstrap import SAMPLES, SEED, seed_summary
from xstilts.analysis.grid import ALL, GROUP_OF
from xstilts.analysis.seed_tables import SeedTables, cell_status, strict_mean
from xstilts.study import NONE

def summarise(matrix: pd.DataFrame, samples: int = SAMPLES, seed: int = SEED,
              prefix: str = "") -> pd.DataFrame:
    """The matrix's keys, then n_seeds, mean, std, ci_low, ci_high over its seed columns."""
    stats = seed_summary(matrix.to_numpy(dtype=float), samples, seed)
    stats = stats.rename(columns={c: prefix + c for c in stats.columns if c != "n_seeds"})
    return pd.concat([matrix.index.to_frame(index=False), stats], axis=1)


def _paired_means(scores: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means of score and baseline over the seeds where both exist (so gain = difference)."""
    both = ~np.isnan(scores) & ~np.isnan(baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (np.nanmean(np.where(both, scores, np.nan), axis=1),
                np.nanmean(np.where(both, baseline, np.nan), axis=1))


def _baseline_rows(scores: pd.DataFrame, gains: pd.DataFrame) -> np.ndarray:
    """The NONE rows of ``scores`` aligned with the rows of ``gains``."""
    baseline = scores.xs(NONE, level="intermediate")
    return baseline.reindex(gains.index.droplevel("intermediate")).to_numpy(dtype=float)


def _gain_table(scores: pd.DataFrame, gains: pd.DataFrame, seeds: int, samples: int,
                seed: int) -> pd.DataFrame:
    table = summarise(gains, samples, seed, prefix="gain_")
    table = table.rename(columns={"gain_mean": "gain", "gain_ci_low": "seed_ci_low",
                                  "gain_ci_high": "seed_ci_high"})
    own = scores.reindex(gains.index).to_numpy(dtype=float)
    base = _baseline_rows(scores, gains)
    table["score"], table["baseline"] = _paired_means(own, base)
    table.insert(len(gains.index.names), "status", cell_status(own, base, seeds))
    table.insert(len(gains.index.names) + 2, "expected_seeds", seeds)
    return table


def language_gain_table(tables: SeedTables, samples: int = SAMPLES, seed: int = SEED
                        ) -> pd.DataFrame:
    """Gain per (architecture, setting, target, language)."""
    return _gain_table(tables.language_scores, tables.language_gains, len(tables.seeds),
                       samples, seed)


def _language_flags(tables: SeedTables, index: pd.MultiIndex) -> pd.Series:
    """"missing languages (k/n)" for cells with some languages absent, else ""."""
    present = tables.languages_present.reindex(index).fillna(0).astype(int).to_numpy()
    expected = np.array([len(tables.grid.languages[t])
                         for t in index.get_level_values("target")])
    flags = [f"missing languages ({e - p}/{e})" if 0 < p < e else ""
             for p, e in zip(present, expected)]
    return pd.Series(flags, index=range(len(index)))


def _merge_status(status: pd.Series, flags: pd.Series) -> pd.Series:
    """A cell missing only because some languages are: say which; else both flags."""
    merged = [s if not f else f if s in ("missing", "ok") else f"{f}; {s}"
              for s, f in zip(status, flags)]
    return pd.Series(merged, index=status.index)


def target_gain_table(tables: SeedTables, samples: int = SAMPLES, seed: int = SEED
                      ) -> pd.DataFrame:
    """Gain per (architecture, setting, target): the mean over the target's languages."""
    table = _gain_table(tables.target_scores, tables.target_gains, len(tables.seeds),
                        samples, seed)
    table["status"] = _merge_status(table["status"],
                                     _language_flags(tables, tables.target_gains.index))
    present = tables.languages_present.reindex(tables.target_gains.index)
    table.insert(4, "languages", present.fillna(0).astype(int).to_numpy())
    return table


def target_score_table(tables: SeedTables, samples: int = SAMPLES, seed: int = SEED
                       ) -> pd.DataFrame:
    """Task score per (architecture, setting incl. the baseline, target)."""
    table = summarise(tables.target_scores, samples, seed, prefix="score_").rename(
        columns={"score_mean": "score", "score_ci_low": "seed_ci_low",
                 "score_ci_high": "seed_ci_high"})
    values = tables.target_scores.to_numpy(dtype=float)
    status = pd.Series(cell_status(values, None, len(tables.seeds)))
    table.insert(3, "status", _merge_status(status, _language_flags(
        tables, tables.target_scores.index)))
    table.insert(5, "expected_seeds", len(tables.seeds))
    return table


def with_group(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix with a "group" index level after "intermediate" (from the target)."""
    frame = matrix.reset_index()
    frame.insert(2, "group", frame["target"].map(GROUP_OF).fillna("other"))
    return frame.set_index(["architecture", "intermediate", "group", "target"])


def mean_gain_table(tables: SeedTables, samples: int = SAMPLES, seed: int = SEED
                    ) -> pd.DataFrame:
    """Mean per-target gain per architecture, over every setting or one, and over every
    target or one task group: rows (architecture, intermediate or (all), group or (all))."""
    gains = with_group(tables.target_gains)
    parts = []
    for by, fill in ((["architecture"], {"intermediate": ALL, "group": ALL}),
                     (["architecture", "group"], {"intermediate": ALL}),
                     (["architecture", "intermediate"], {"group": ALL}),
                     (["architecture", "intermediate", "group"], {})):
        matrix = strict_mean(gains, by)
        size = gains.groupby(level=by, sort=False).size().reindex(matrix.index)
        part = summarise(matrix, samples, seed, prefix="gain_")
        part["cells"] = size.to_numpy()
        for column, value in fill.items():
            part[column] = value
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table = table.rename(columns={"gain_mean": "gain", "gain_ci_low": "seed_ci_low",
                                  "gain_ci_high": "seed_ci_high"})
    seeds = len(tables.seeds)
    table["status"] = [("missing" if n == 0 else f"fewer seeds ({n}/{seeds})" if n < seeds
                        else "ok") for n in table["n_seeds"]]
    columns = ["architecture", "intermediate", "group", "cells", "status", "n_seeds",
               "gain", "gain_std", "seed_ci_low", "seed_ci_high"]
    return table[columns]
