"""Percentile bootstrap intervals, vectorised so a study-sized grid takes seconds.

A resample with replacement of ``n`` units is a row of counts (how often each unit was
drawn); a mean over a resample is then a row of a matrix product, so every cell of a table
is resampled in one product instead of a Python loop per cell and resample. Resamples come
from ``numpy.random.default_rng`` with a fixed seed, so a run always gets the same
intervals.

Two kinds of units are resampled:

* seeds: the spread of a cell's mean over training seeds (every table);
* examples: the spread of a score over the test examples (where per-example predictions
  and gold labels exist; see ``xstilts.analysis.example_scores``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

SAMPLES = 1000  # bootstrap resamples
SEED = 0  # seed of every bootstrap's generator
LEVEL = 0.95  # two-sided coverage of every interval
_BLOCK = 2_000_000  # counts per block of resamples (bounds memory for large test sets)
_ROWS = 4096  # cells per block in the seed bootstrap


def resample_blocks(n: int, samples: int = SAMPLES,
                    rng: np.random.Generator | int | None = SEED) -> Iterator[np.ndarray]:
    """Counts of each of ``n`` units in ``samples`` resamples with replacement, in blocks
    of rows (``samples`` rows in all). Block ``k`` is ``rng.integers(0, n, (rows, n))``
    turned into counts; small ``n`` gives one block, the same draws as one such call."""
    generator = np.random.default_rng(rng)
    rows = max(1, min(samples, _BLOCK // max(n, 1)))
    for start in range(0, samples, rows):
        size = min(rows, samples - start)
        draws = generator.integers(0, n, size=(size, n))
        draws += (np.arange(size) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(float)


def resample_counts(n: int, samples: int = SAMPLES,
                    rng: np.random.Generator | int | None = SEED) -> np.ndarray:
    """All resamples' counts, ``samples`` × ``n`` (for small ``n``: seeds)."""
    return np.vstack(list(resample_blocks(n, samples, rng)))


def interval(draws: np.ndarray, axis: int = -1, level: float = LEVEL
             ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap draws along ``axis``."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail], axis=axis)
    return low, high


def seed_intervals(values: np.ndarray, samples: int = SAMPLES, seed: int = SEED,
                   level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap interval of each row's mean over its seeds (columns; NaN = seed missing).

    Rows with ``k`` values share one set of resamples of ``k`` seeds, drawn from
    ``default_rng(seed)`` (so a row's interval does not depend on the other rows). Rows with
    fewer than two values get NaN: one seed says nothing about the spread. Identical
    values give a zero-width interval.
    """
    values = np.asarray(values, dtype=float)
    low = np.full(values.shape[0], np.nan)
    high = np.full(values.shape[0], np.nan)
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    for k in sorted(set(counts.tolist()) - {0, 1}):
        rows = np.flatnonzero(counts == k)
        # Keep each row's values in seed order, missing seeds moved to the end.
        order = np.argsort(~present[rows], axis=1, kind="stable")
        block = np.take_along_axis(values[rows], order, axis=1)[:, :k]
        weights = resample_counts(k, samples, seed).T / k  # k × samples
        for start in range(0, rows.size, _ROWS):
            part = slice(start, start + _ROWS)
            low[rows[part]], high[rows[part]] = interval(block[part] @ weights, level=level)
    return low, high


def seed_summary(values: np.ndarray, samples: int = SAMPLES, seed: int = SEED
                 ) -> pd.DataFrame:
    """Per row: seeds with a value, mean, standard deviation (n-1) and bootstrap interval."""
    values = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        mean = np.nanmean(values, axis=1) if values.size else np.zeros(len(values))
        std = np.nanstd(values, axis=1, ddof=1) if values.size else np.zeros(len(values))
    n = (~np.isnan(values)).sum(axis=1)
    std = np.where(n >= 2, std, np.nan)
    low, high = seed_intervals(values, samples, seed)
    return pd.DataFrame({"n_seeds": n, "mean": mean, "std": std, "ci_low": low,
                         "ci_high": high})


def ratio_draws(numerator: np.ndarray, denominator: np.ndarray, samples: int = SAMPLES,
                rng: np.random.Generator | int | None = SEED) -> np.ndarray:
    """Bootstrap draws of ``sum(numerator) / sum(denominator)`` over units (rows), for
    every column at once: ``samples`` × columns. A mean is the case denominator = 1; an F1
    score is 2·TP / (predicted + gold) (0 where nothing is predicted or gold)."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    parts = []
    means = bool((denominator == 1).all())  # then every resample's denominator is n
    for counts in resample_blocks(numerator.shape[0], samples, rng):
        top = counts @ numerator
        bottom = np.full_like(top, numerator.shape[0]) if means else counts @ denominator
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(np.where(bottom > 0, top / bottom, 0.0))
    return np.vstack(parts)
