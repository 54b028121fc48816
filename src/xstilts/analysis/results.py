"""Score tables of a run: per-language scores, gains over the no-intermediate baseline, and
benchmark-style averages.

scores: one row per (architecture, intermediate, seed, target, language, metric).
gains:  the score minus the same architecture and seed's score without intermediate
        training (intermediate "none"), for every other intermediate setting.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xstilts.atomic import atomic_path

KEYS = ["architecture", "intermediate", "seed", "target", "language", "metric"]
TASK_METRIC = "task_score"  # the score a benchmark averages: accuracy, F1, (EM+F1)/2, mAP@20


def scores_frame(rows: list[dict]) -> pd.DataFrame:
    """Scores in a fixed column and row order, with each task's task_score added."""
    frame = pd.DataFrame(rows, columns=[*KEYS, "value"])
    frame = pd.concat([frame, _task_scores(frame)], ignore_index=True)
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _task_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Per language: (EM+F1)/2 for QA, F1 for tagging and BUCC, accuracy or mAP@20 else."""
    wide = frame.pivot_table(index=KEYS[:-1], columns="metric", values="value",
                             aggfunc="first")
    if wide.empty:
        return frame.iloc[0:0]
    if "exact_match" in wide:
        score = ((wide["exact_match"] + wide["f1"]) / 2).where(wide["exact_match"].notna())
    else:
        score = pd.Series(float("nan"), index=wide.index)
    for metric in ("f1", "accuracy", "map@20"):
        if metric in wide:
            score = score.fillna(wide[metric])
    out = score.rename("value").reset_index()
    out["metric"] = TASK_METRIC
    return out[[*KEYS, "value"]]


def gains_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Score minus the same architecture+seed's no-intermediate score, per cell."""
    index = ["architecture", "seed", "target", "language", "metric"]
    baseline = scores[scores["intermediate"] == "none"].set_index(index)["value"]
    others = scores[scores["intermediate"] != "none"].copy()
    if others.empty or baseline.empty:
        return pd.DataFrame(columns=[*KEYS, "value", "baseline", "gain"])
    joined = others.join(baseline.rename("baseline"), on=index)
    joined["gain"] = joined["value"] - joined["baseline"]
    return joined.dropna(subset=["baseline"]).reset_index(drop=True)


def task_averages(scores: pd.DataFrame, languages: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Mean task score over each target's languages (the benchmark's per-task number)."""
    task_scores = scores[scores["metric"] == TASK_METRIC]
    rows = []
    for (arch, inter, seed, target), group in task_scores.groupby(
            ["architecture", "intermediate", "seed", "target"], sort=True):
        wanted = languages.get(target) or tuple(group["language"])
        values = group[group["language"].isin(wanted)]["value"]
        rows.append({"architecture": arch, "intermediate": inter, "seed": seed,
                     "target": target, "value": values.mean(), "languages": len(values)})
    return pd.DataFrame(rows)


def write_frame(frame: pd.DataFrame, folder: Path, stem: str) -> None:
    """Write ``stem.parquet`` and ``stem.csv`` atomically."""
    with atomic_path(folder / f"{stem}.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(folder / f"{stem}.csv") as tmp:
        frame.to_csv(tmp, index=False)
