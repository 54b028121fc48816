"""Phang et al.'s "best intermediate task per target": for each architecture and target,
the intermediate setting whose trained target model has the best English dev score (the
score that selected the model; run.json ``english_dev``), reported on test. Never chosen
on test: the test-best setting is shown beside it only to say how often dev picks it.

Targets without target training (BUCC, Tatoeba) have no English dev set of their own;
for them the setting with the best mean English dev score over the architecture's trained
targets is taken, and the table says so.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from xstilts.analysis.grid import Grid, dev_sources

BEST = "best per target (dev)"  # the intermediate label of the composed row
_COLUMNS = ["architecture", "target", "selected", "basis", "dev_score"]


def dev_means(dev: list[dict]) -> pd.DataFrame:
    """English dev score per (architecture, intermediate, target), mean over seeds."""
    if not dev:
        return pd.DataFrame(columns=["architecture", "intermediate", "target", "dev_score"])
    frame = pd.DataFrame(dev)
    frame["dev_score"] = pd.to_numeric(frame["dev_score"], errors="coerce")
    return frame.groupby(["architecture", "intermediate", "target"], as_index=False,
                         sort=True)["dev_score"].mean()


def _argmax(values: dict[str, float], order: tuple[str, ...]) -> str | None:
    """The key with the largest value; ties go to the earlier setting in report order."""
    best = None
    for setting in order:
        value = values.get(setting, np.nan)
        if not np.isnan(value) and (best is None or value > values[best]):
            best = setting
    return best


def select_on_dev(dev: list[dict], grid: Grid) -> pd.DataFrame:
    """One row per (architecture, target): the selected setting, what it was chosen on,
    and its English dev score (NaN and no selection where there is no dev score)."""
    means = dev_means(dev)
    rows = []
    for arch in grid.architectures:
        mine = means[(means["architecture"] == arch)
                     & means["intermediate"].isin(grid.settings)]
        by_target = {t: dict(zip(g["intermediate"], g["dev_score"]))
                     for t, g in mine.groupby("target")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            overall = mine.groupby("intermediate")["dev_score"].mean().to_dict()
        for target in grid.targets:
            sources = sorted(dev_sources(target) & set(by_target))
            if sources:
                values = {i: float(np.mean([by_target[s].get(i, np.nan) for s in sources]))
                          for i in grid.settings}
                basis = "English dev of " + ", ".join(sources)
            elif not dev_sources(target) and overall:
                values = {i: float(v) for i, v in overall.items()}
                basis = "mean English dev over trained targets (no dev set of its own)"
            else:
                values, basis = {}, "no English dev score"
            selected = _argmax(values, grid.settings)
            rows.append({"architecture": arch, "target": target, "selected": selected or "",
                         "basis": basis,
                         "dev_score": values.get(selected, np.nan) if selected else np.nan})
    return pd.DataFrame(rows, columns=_COLUMNS)


def best_per_target_table(selection: pd.DataFrame, target_gains: pd.DataFrame,
                          grid: Grid) -> pd.DataFrame:
    """The selection with the selected setting's test gain (mean, std, seed interval,
    status) and, for comparison only, the setting with the best mean test gain."""
    gains = target_gains.set_index(["architecture", "intermediate", "target"])
    rows = []
    for row in selection.itertuples(index=False):
        record = row._asdict()
        key = (row.architecture, row.selected, row.target)
        picked = gains.loc[key] if row.selected and key in gains.index else None
        for column in ("status", "n_seeds", "score", "baseline", "gain", "gain_std",
                       "seed_ci_low", "seed_ci_high"):
            default = "no selection" if column == "status" else np.nan
            record[column] = picked[column] if picked is not None else default
        candidates = {i: gains.loc[(row.architecture, i, row.target), "gain"]
                      for i in grid.settings
                      if (row.architecture, i, row.target) in gains.index}
        test_best = _argmax({i: float(v) for i, v in candidates.items()}, grid.settings)
        record["test_best"] = test_best or ""
        record["test_best_gain"] = candidates.get(test_best, np.nan) if test_best else np.nan
        record["dev_picks_test_best"] = bool(test_best and test_best == row.selected)
        rows.append(record)
    return pd.DataFrame(rows)
