"""The report's answer in a few sentences, generated from the analysis's numbers (never
written by hand), each pointing at the table that backs it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from xstilts.analysis.best_per_target import BEST
from xstilts.analysis.grid import ALL
from xstilts.analysis.language_metadata import LANGUAGES
from xstilts.analysis.significance import ALPHA
from xstilts.analysis.study_analysis import Analysis


def signed(value: float, digits: int = 1) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:+.{digits}f}"


def with_interval(value: float, low: float, high: float) -> str:
    text = signed(value)
    if not (math.isnan(low) or math.isnan(high)):
        text += f" [{low:+.1f}, {high:+.1f}]"
    return text


def _overall(analysis: Analysis) -> str:
    rows = analysis.mean_gains[(analysis.mean_gains["intermediate"] == ALL)
                               & (analysis.mean_gains["group"] == ALL)]
    known = rows.dropna(subset=["gain"])
    settings, targets = len(analysis.grid.settings), len(analysis.grid.targets)
    if known.empty:
        return (f"- No architecture has a complete set of gains over its {settings} "
                f"setting(s) and {targets} target(s) yet (see the flags below), so no mean "
                "gain is reported.")
    parts = [f"{r.architecture} {with_interval(r.gain, r.seed_ci_low, r.seed_ci_high)}"
             for r in rows.itertuples()]
    text = (f"- Averaged over {settings} intermediate setting(s) and {targets} target(s), "
            "English intermediate-task training changes the zero-shot task score by "
            + "; ".join(parts) + " points (mean over seeds, 95% seed-bootstrap interval).")
    if len(known) > 1:
        top = known.loc[known["gain"].idxmax()]
        low = known.loc[known["gain"].idxmin()]
        text += (f" The gain is largest for {top.architecture} and smallest for "
                 f"{low.architecture} ({signed(top.gain - low.gain)} points apart).")
    return text


def _best_settings(analysis: Analysis) -> str:
    rows = analysis.mean_gains[(analysis.mean_gains["intermediate"] != ALL)
                               & (analysis.mean_gains["group"] == ALL)].dropna(subset=["gain"])
    if rows.empty:
        return ""
    parts = []
    for arch, group in rows.groupby("architecture", sort=False):
        best = group.loc[group["gain"].idxmax()]
        parts.append(f"{best.intermediate} for {arch} ({signed(best.gain)})")
    return "- The best intermediate setting on average over targets is " + \
        "; ".join(parts) + "."


def _groups(analysis: Analysis) -> str:
    rows = analysis.mean_gains[(analysis.mean_gains["intermediate"] == ALL)
                               & (analysis.mean_gains["group"] != ALL)]
    means = rows.groupby("group", sort=False)["gain"].apply(
        lambda s: s.mean() if s.notna().all() else np.nan).dropna()
    if len(means) < 2:
        return ""
    order = means.sort_values(ascending=False)
    parts = ", ".join(f"{g} {signed(v)}" for g, v in order.items())
    return (f"- By task group (mean over architectures): {parts}; gains are largest on "
            f"{order.index[0]} and smallest on {order.index[-1]}.")


def _best_per_target(analysis: Analysis) -> str:
    table = analysis.best_per_target
    chosen = table[table["selected"] != ""]
    if chosen.empty:
        return ("- Best intermediate task per target: not available (no English dev "
                "scores in the run).")
    agree = int(chosen["dev_picks_test_best"].sum())
    aggregates = analysis.aggregates
    best = aggregates[(aggregates["intermediate"] == BEST)
                      & (aggregates["aggregate"] == "all_task")].dropna(subset=["gain"])
    text = (f"- Choosing the intermediate setting per target on the English dev score "
            f"(Phang et al.'s \"best per target\") picks the setting with the best test gain "
            f"in {agree} of {len(chosen)} (architecture, target) cases.")
    if not best.empty:
        parts = [f"{r.benchmark} {r.architecture} "
                 f"{with_interval(r.gain, r.gain_ci_low, r.gain_ci_high)}"
                 for r in best.itertuples()]
        text += " Its benchmark score gain over no intermediate training: " + \
            "; ".join(parts) + "."
    else:
        per_arch = chosen.groupby("architecture", sort=False)["gain"].apply(
            lambda s: s.mean() if s.notna().all() else np.nan)
        text += (" (The study does not cover a whole benchmark, so there is no official "
                 "aggregate.) Mean gain of the selected settings over targets: "
                 + "; ".join(f"{a} {signed(v)}" for a, v in per_arch.items()) + ".")
    return text


def _agreement(analysis: Analysis) -> str:
    rows = analysis.rank_agreement[analysis.rank_agreement["scope"] == ALL].dropna(
        subset=["tau"])
    if rows.empty:
        return ("- Agreement of intermediate-task rankings between architectures: not "
                "computable (needs at least two architectures and three settings with gains).")
    mean_tau = rows["tau"].mean()
    strong = int((rows["p_value"] < ALPHA).sum())
    word = "agree" if mean_tau >= 0.6 else "partly agree" if mean_tau >= 0.2 else \
        "do not agree"
    return (f"- Architectures {word} on which intermediate settings help most: mean Kendall "
            f"τ over {len(rows)} architecture pair(s) = {mean_tau:+.2f} "
            f"({strong} pair(s) with p < {ALPHA}, uncorrected).")


def _baseline(analysis: Analysis) -> str:
    table = analysis.baseline_correlations
    pooled = table[(table["points"] == "languages") & (table["scope"] == ALL)]
    if pooled.empty or math.isnan(pooled["spearman"].iloc[0]):
        return ""
    rho, p, n = (pooled["spearman"].iloc[0], pooled["spearman_p"].iloc[0],
                 int(pooled["n"].iloc[0]))
    if p < ALPHA:
        reading = "weaker baselines gain more" if rho < 0 else "stronger baselines gain more"
    else:
        reading = "no clear relation"
    return (f"- Gain versus baseline strength (zero-shot languages, all architectures and "
            f"targets): Spearman ρ = {rho:+.2f} (p = {p:.2g}, n = {n}): {reading}.")


def _resource(analysis: Analysis) -> str:
    frame = analysis.per_language
    if frame.empty:
        return ""
    level = frame["language"].map(lambda c: LANGUAGES[c].resource if c in LANGUAGES
                                  else "unknown")
    means = frame.groupby(level)["gain"].apply(
        lambda s: s.mean() if s.notna().all() else np.nan).dropna()
    if means.empty:
        return ""
    names = {"low": "low-resource (Joshi class 0-2)", "mid": "mid (class 3)",
             "high": "high-resource (class 4-5)"}
    parts = [f"{names.get(k, k)} {signed(means[k])}" for k in ("low", "mid", "high")
             if k in means]
    return ("- Per-language gain by resource level (mean over architectures, settings and "
            "targets): " + "; ".join(parts) + ".")


def _significance(analysis: Analysis) -> str:
    table = analysis.significance
    parts = []
    for family in ("gain (seeds)", "gain (languages)", "architectures (languages)"):
        rows = table[table["family"] == family]
        tested = rows.dropna(subset=["p_value"])
        if tested.empty:
            continue
        parts.append(f"{int(tested['significant'].sum())} of {len(tested)} "
                     f"{family.replace(' (', ' tests (')}")
    if not parts:
        return ("- Significance: no test could be run (too few seeds or languages).")
    return ("- Significant after Holm correction (α = 0.05): " + "; ".join(parts) + ".")


def _completeness(analysis: Analysis) -> str:
    status = analysis.target_gains["status"].astype(str)
    missing = int((status == "missing").sum())
    fewer = int(status.str.contains("fewer seeds").sum())
    partial = int(status.str.contains("missing languages").sum())
    if not (missing or fewer or partial):
        return ""
    return (f"- The grid is incomplete: {missing} (architecture, setting, target) gain cell(s) "
            f"missing, {fewer} with fewer seeds than asked for, {partial} with missing "
            "languages; these are marked in every table and left out of averages that need "
            "them.")


def answer(analysis: Analysis, synthetic: bool) -> list[str]:
    """The answer's lines (Markdown bullets)."""
    lines = [_overall(analysis), _best_settings(analysis), _groups(analysis),
             _best_per_target(analysis), _agreement(analysis), _baseline(analysis),
             _resource(analysis), _significance(analysis), _completeness(analysis)]
    if synthetic:
        lines.append("- **These numbers come from synthetic data and say nothing about the "
                     "real benchmarks**: the run exercises the study's machinery only.")
    return [line for line in lines if line]


def example_note_table(notes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"target": list(notes), "example_bootstrap": list(notes.values())})
