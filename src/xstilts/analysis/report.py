"""The run report: the question, the setup, the answer generated from the numbers, and the
tables and figures behind it, as report.md, one self-contained report.html, PNG figures,
CSV tables of everything, and headline.json (the numbers a pipeline logs as metrics).

Tables are written sorted and rounded, with a fixed bootstrap seed, so the same run gives
byte-identical files. A synthetic-data run says so at the top of the Markdown and HTML, in
every figure title and in the first column ("data") of every CSV.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xstilts.analysis import figures
from xstilts.analysis.best_per_target import BEST
from xstilts.analysis.bootstrap import LEVEL, SAMPLES, SEED
from xstilts.analysis.document import Figure, Section, Table, to_html, to_markdown
from xstilts.analysis.grid import ALL, TASK_GROUPS
from xstilts.analysis.language_metadata import LANGUAGES, language_frame
from xstilts.analysis.narrative import answer, example_note_table, signed
from xstilts.analysis.significance import ALPHA
from xstilts.analysis.study_analysis import Analysis, analyse
from xstilts.atomic import write_text
from xstilts.study import NONE

QUESTION = ("How much does English intermediate-task training (X-STILTs: fine-tune on an "
            "English task, then on the English target task) help zero-shot cross-lingual "
            "transfer, and how does that gain vary across multilingual architectures on "
            "XTREME and XTREME-R?")
FIGURES = {"gain_heatmap.png": "Gain per architecture and intermediate setting, per target",
           "language_gains.png": "Per-language gain by architecture",
           "gain_vs_baseline.png": "Gain versus baseline score"}
FLOAT_FORMAT = "%.6g"


def banner(synthetic: bool, architectures: Sequence[str]) -> str:
    """The label at the top of every output of a synthetic (or tiny-model) run."""
    tiny = [a for a in architectures if a.startswith("tiny-")]
    models = f" with tiny models ({', '.join(tiny)})" if tiny else ""
    if synthetic:
        return (f"SYNTHETIC DATA{models}: these scores come from the offline synthetic "
                "stand-in for the benchmarks and say nothing about the real tasks.")
    if tiny:
        return (f"TINY MODELS ({', '.join(tiny)}): these scores test the machinery and say "
                "nothing about the real architectures.")
    return ""


# --------------------------------------------------------------------------- formatting

def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def gain_cell(mean: float, std: float = math.nan, low: float = math.nan,
              high: float = math.nan, status: str = "ok", plus: bool = True) -> str:
    """"+1.2 ± 0.3 [+0.9, +1.6]", "—" when missing, † for fewer seeds than asked for."""
    if _nan(mean):
        return "—"
    text = f"{mean:+.1f}" if plus else f"{mean:.1f}"
    if not _nan(std):
        text += f" ± {std:.1f}"
    if not (_nan(low) or _nan(high)):
        text += f" [{low:+.1f}, {high:+.1f}]" if plus else f" [{low:.1f}, {high:.1f}]"
    if "fewer seeds" in str(status) or "missing languages" in str(status):
        text += " †"
    return text


def _pivot(frame: pd.DataFrame, rows: list[str], column: str, cell: pd.Series,
           columns: Sequence[str]) -> pd.DataFrame:
    data = frame[rows + [column]].assign(_cell=cell.to_numpy())
    table = data.pivot_table(index=rows, columns=column, values="_cell", aggfunc="first",
                             sort=False)
    table = table.reindex(columns=list(columns)).astype(object)
    table = table.where(table.notna(), "—")
    table.columns = [str(c) for c in table.columns]
    return table.reset_index()


def _cells(frame: pd.DataFrame, mean: str, std: str, low: str, high: str,
           plus: bool = True) -> pd.Series:
    return pd.Series([gain_cell(r[mean], r[std], r[low], r[high], r.get("status", "ok"), plus)
                      for r in frame.to_dict("records")], index=frame.index)


# --------------------------------------------------------------------------- tables

def target_gain_view(analysis: Analysis) -> pd.DataFrame:
    gains = analysis.target_gains
    view = _pivot(gains, ["architecture", "intermediate"], "target",
                  _cells(gains, "gain", "gain_std", "seed_ci_low", "seed_ci_high"),
                  analysis.grid.targets)
    overall = analysis.mean_gains[(analysis.mean_gains["group"] == ALL)
                                  & (analysis.mean_gains["intermediate"] != ALL)]
    means = {(r["architecture"], r["intermediate"]): gain_cell(
        r["gain"], r["gain_std"], r["seed_ci_low"], r["seed_ci_high"], r["status"])
        for r in overall.to_dict("records")}
    view["mean over targets"] = [means.get((a, i), "—") for a, i in
                                 zip(view["architecture"], view["intermediate"])]
    return view


def example_view(analysis: Analysis) -> pd.DataFrame:
    gains = analysis.target_gains.dropna(subset=["example_ci_low"])
    if gains.empty:
        return pd.DataFrame()
    cell = pd.Series([f"[{lo:+.1f}, {hi:+.1f}]" for lo, hi in
                      zip(gains["example_ci_low"], gains["example_ci_high"])], index=gains.index)
    targets = [t for t in analysis.grid.targets if t in set(gains["target"])]
    return _pivot(gains, ["architecture", "intermediate"], "target", cell, targets)


def score_view(analysis: Analysis) -> pd.DataFrame:
    scores = analysis.target_scores
    return _pivot(scores, ["architecture", "intermediate"], "target",
                  _cells(scores, "score", "score_std", "seed_ci_low", "seed_ci_high",
                         plus=False),
                  analysis.grid.targets)


def aggregate_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.aggregates
    table = table.assign(column=table["benchmark"] + " " + table["aggregate"])
    present = [c for c in dict.fromkeys(table["column"])
               if table.loc[table["column"] == c, "score"].notna().any()]
    if not present:
        return pd.DataFrame()
    cells = []
    for r in table.to_dict("records"):
        text = gain_cell(r["score"], r["score_std"], status=r["status"], plus=False)
        if not _nan(r["gain"]):
            text += f" ({gain_cell(r['gain'], math.nan, r['gain_ci_low'], r['gain_ci_high'])})"
        cells.append(text)
    return _pivot(table, ["architecture", "intermediate"], "column",
                  pd.Series(cells, index=table.index), present)


def best_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.best_per_target
    if table.empty:
        return table
    return pd.DataFrame({
        "architecture": table["architecture"], "target": table["target"],
        "selected on English dev": table["selected"].replace("", "—"),
        "dev score": [f"{v:.1f}" if not _nan(v) else "—" for v in table["dev_score"]],
        "test gain": _cells(table, "gain", "gain_std", "seed_ci_low", "seed_ci_high"),
        "test-best setting (not used)": table["test_best"].replace("", "—"),
        "test-best gain": [signed(v) for v in table["test_best_gain"]],
        "basis": table["basis"]})


def group_view(analysis: Analysis) -> pd.DataFrame:
    rows = analysis.mean_gains[analysis.mean_gains["intermediate"] == ALL]
    return _pivot(rows, ["architecture"], "group",
                  _cells(rows, "gain", "gain_std", "seed_ci_low", "seed_ci_high"),
                  [ALL, *TASK_GROUPS])


def agreement_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.rank_agreement
    if table.empty:
        return table
    cell = pd.Series([("—" if _nan(t) else f"{t:+.2f} (p={p:.2g}, n={n})")
                      for t, p, n in zip(table["tau"], table["p_value"], table["settings"])],
                     index=table.index)
    return _pivot(table, ["architecture_a", "architecture_b"], "scope", cell,
                  [ALL, *analysis.grid.targets])


def correlation_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.baseline_correlations
    return pd.DataFrame({
        "points": table["points"], "scope": table["scope"], "n": table["n"],
        "Spearman ρ (p)": [("—" if _nan(r) else f"{r:+.2f} ({p:.2g})")
                           for r, p in zip(table["spearman"], table["spearman_p"])],
        "Pearson r (p)": [("—" if _nan(r) else f"{r:+.2f} ({p:.2g})")
                          for r, p in zip(table["pearson"], table["pearson_p"])]})


def language_view(analysis: Analysis) -> pd.DataFrame:
    frame = analysis.per_language
    if frame.empty:
        return frame
    cell = pd.Series([signed(v) for v in frame["gain"]], index=frame.index)
    view = _pivot(frame, ["language"], "architecture", cell, analysis.grid.architectures)
    meta = {code: LANGUAGES.get(code) for code in view["language"]}
    view.insert(1, "family", [m.family if m else "?" for m in meta.values()])
    view.insert(2, "script", [m.script if m else "?" for m in meta.values()])
    view.insert(3, "Joshi class", [str(m.joshi_class) if m else "?" for m in meta.values()])
    return view


def feature_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.language_features
    if table.empty:
        return table
    cell = pd.Series([f"{signed(g)} (n={n})" for g, n in zip(table["gain"], table["languages"])],
                     index=table.index)
    return _pivot(table, ["feature", "value"], "architecture", cell,
                  [*analysis.grid.architectures, ALL])


def significance_view(analysis: Analysis) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = analysis.significance
    summary = table.groupby("family", sort=False).agg(
        tests=("p_value", lambda p: int(p.notna().sum())),
        significant=("significant", "sum"),
        not_testable=("p_value", lambda p: int(p.isna().sum()))).reset_index()
    hits = table[table["significant"]].sort_values(["family", "p_value"], kind="stable")
    shown = hits.head(25)
    details = pd.DataFrame({
        "family": shown["family"], "test": shown["test"],
        "comparison": [" / ".join(x for x in (r.architecture, r.architecture_b,
                                               r.intermediate, r.target, r.feature) if x)
                       for r in shown.itertuples()],
        "n": shown["n"], "estimate": [signed(v, 2) for v in shown["estimate"]],
        "p": [f"{p:.2g}" for p in shown["p_value"]],
        "Holm p": [f"{p:.2g}" for p in shown["p_holm"]],
        "BH q": [f"{q:.2g}" for q in shown["q_bh"]]})
    return summary, details


def dev_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.english_dev
    if table.empty:
        return table
    cell = pd.Series([f"{v:.1f}" if not _nan(v) else "—" for v in table["dev_score"]],
                     index=table.index)
    targets = [t for t in analysis.grid.targets if t in set(table["target"])]
    targets += sorted(set(table["target"]) - set(targets))
    return _pivot(table, ["architecture", "intermediate"], "target", cell, targets)


def flag_view(analysis: Analysis) -> pd.DataFrame:
    table = analysis.target_gains
    flagged = table[table["status"] != "ok"]
    return flagged[["architecture", "intermediate", "target", "status", "n_seeds",
                    "languages"]].reset_index(drop=True)


# --------------------------------------------------------------------------- sections

def setup_lines(config: Any, analysis: Analysis, synthetic: bool, data_version: str | None,
                code_version: str | None) -> list[str]:
    grid = analysis.grid
    settings = []
    for inter in grid.settings:
        members = config.mixtures.get(inter) if hasattr(config, "mixtures") else None
        settings.append(f"{inter} (mix of {', '.join(members)})" if members else inter)
    targets = [f"{t} ({len(grid.languages[t])} languages)" for t in grid.targets]
    budget = {k: v for k, v in config.budget.model_dump().items() if v is not None}
    data = "synthetic (offline stand-in)" if synthetic else config.data.source
    return [
        f"- **Architectures**: {', '.join(grid.architectures)}",
        f"- **Intermediate settings**: baseline `{NONE}` (no intermediate training), "
        + ", ".join(settings),
        f"- **Targets**: {', '.join(targets)}",
        f"- **Seeds**: {', '.join(map(str, grid.seeds))} ({len(grid.seeds)} per cell)",
        f"- **Recipe**: {config.recipe}"
        + (f"; budget {json.dumps(budget, sort_keys=True)}" if budget else ""),
        f"- **Data**: {data}; data version `{data_version or 'unknown'}`",
        f"- **Code version**: `{code_version or 'unknown'}`",
        f"- **Statistics**: gain = task score − the same architecture's and seed's score "
        f"without intermediate training; mean ± standard deviation over seeds; "
        f"{LEVEL:.0%} percentile bootstrap intervals over seeds ({SAMPLES} resamples, "
        f"numpy default_rng({SEED})) and, where predictions and gold labels allow, over "
        f"test examples (paired, stratified by language); paired tests with Holm "
        f"correction per family (α = {ALPHA}). A target's score is the mean over all its "
        f"evaluated languages (English included); XTREME / XTREME-R aggregates use the "
        f"official scorer's languages and averaging. † marks cells with fewer seeds than "
        f"asked for or missing languages; — marks missing cells.",
    ]


def sections(config: Any, analysis: Analysis, synthetic: bool, data_version: str | None,
             code_version: str | None, folder: Path) -> list[Section]:
    significance_summary, significance_details = significance_view(analysis)
    examples = example_view(analysis)
    figure_blocks = {name: Figure(folder / name, caption) for name, caption in FIGURES.items()
                     if (folder / name).is_file()}
    out = [
        Section("Question", [QUESTION]),
        Section("Setup", ["\n".join(setup_lines(config, analysis, synthetic, data_version,
                                                code_version))]),
        Section("Answer", ["\n".join(answer(analysis, synthetic))]),
        Section("Gain per target", [
            "Gain in points (mean ± std over seeds [95% seed-bootstrap interval]) per "
            "architecture, intermediate setting and target; a target's gain is the mean of "
            "its per-language gains (per language: `gains_by_language.csv`).",
            Table(target_gain_view(analysis)),
            *([figure_blocks["gain_heatmap.png"]] if "gain_heatmap.png" in figure_blocks
              else [])]),
        Section("Example-bootstrap intervals", [
            "95% intervals of each gain over test examples (paired resampling of the test "
            "set, stratified by language, mean over seeds), where the run folder has "
            "per-example predictions and gold labels:",
            Table(example_note_table(analysis.example_notes)),
            *([Table(examples)] if not examples.empty else [])], level=3),
        Section("Benchmark aggregates (official averaging)", [
            "Score (gain over no intermediate training [95% seed-bootstrap interval]) of "
            "each XTREME / XTREME-R aggregate the study's targets cover, averaged as the "
            f"official scorer does. The row `{BEST}` uses, per target, the setting chosen on "
            "English dev below.",
            Table(aggregate_view(analysis),
                  note="Aggregates whose tasks the study does not all cover are left out "
                       "(missing), as the official scorer leaves them out.")]),
        Section("Best intermediate setting per target (chosen on English dev)", [
            "Phang et al.'s \"best per target\": per architecture and target, the setting "
            "whose trained target model has the best English dev score, reported on test. "
            "The test-best setting is shown for comparison only; it is never used.",
            Table(best_view(analysis))]),
        Section("Across architectures", []),
        Section("Mean gain by task group", [
            "Mean gain over every intermediate setting and the group's targets "
            "(groups from the official scorer; LAReQA counted as retrieval as in XTREME-R).",
            Table(group_view(analysis))], level=3),
        Section("Agreement of intermediate-task rankings (Kendall τ)", [
            "Kendall τ between two architectures' rankings of the intermediate settings by "
            "gain (scope (all): mean gain over targets), with its two-sided p-value.",
            Table(agreement_view(analysis))], level=3),
        Section("Gain versus baseline strength", [
            "Correlation of the gain (mean over settings) with the baseline score, over "
            "zero-shot languages (English left out), per architecture and per target; "
            "\"targets\" pairs (architecture, target) means.",
            Table(correlation_view(analysis)),
            *([figure_blocks["gain_vs_baseline.png"]] if "gain_vs_baseline.png"
              in figure_blocks else [])], level=3),
        Section("Gains by language family, script and resource level", [
            "Per-language gain (mean over settings and the targets that have the "
            "language), grouped by language family, script and Joshi et al. (2020) "
            "resource class; sources in `languages.csv` / "
            "`xstilts.analysis.language_metadata`.",
            Table(feature_view(analysis)),
            *([figure_blocks["language_gains.png"]] if "language_gains.png" in figure_blocks
              else []),
            Table(language_view(analysis))], level=3),
        Section("Significance", [
            "Tests per family, Holm-adjusted within the family (every test, with BH "
            "q-values: `significance.csv`):",
            Table(significance_summary),
            "Significant after Holm correction (at most 25 shown):",
            Table(significance_details)]),
        Section("Task scores", [
            "Task score per target (mean ± std over seeds [95% seed-bootstrap interval]); "
            "QA: (EM + F1) / 2.",
            Table(score_view(analysis))]),
        Section("English dev score of the trained target models (model selection)", [
            "Columns name the target whose model it is (XQuAD's model also serves MLQA).",
            Table(dev_view(analysis))]),
        Section("Grid completeness", [
            "Cells that are not complete (missing, no baseline, fewer seeds than asked "
            "for, missing languages):",
            Table(flag_view(analysis))]),
        Section("Files", ["\n".join(f"- `{name}`" for name in sorted(
            [*CSV_FILES, *figure_blocks, "report.md", "report.html", "headline.json"]))]),
    ]
    return out


# --------------------------------------------------------------------------- files

CSV_FILES = ("gains_by_language.csv", "gains_by_target.csv", "scores_by_target.csv",
             "mean_gains.csv", "aggregates.csv", "best_per_target.csv",
             "rank_agreement.csv", "gain_vs_baseline.csv", "gain_vs_baseline_points.csv",
             "language_gains.csv", "language_features.csv", "languages.csv",
             "significance.csv", "english_dev.csv", "example_bootstrap.csv")


def write_csv(frame: pd.DataFrame, path: Path, synthetic: bool) -> None:
    """A table with a first column "data" (SYNTHETIC or real), rounded, "\\n" line ends."""
    frame = frame.copy()
    frame.insert(0, "data", "SYNTHETIC" if synthetic else "real")
    write_text(path, frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n"))


def csv_tables(analysis: Analysis) -> dict[str, pd.DataFrame]:
    return {
        "gains_by_language.csv": analysis.language_gains,
        "gains_by_target.csv": analysis.target_gains,
        "scores_by_target.csv": analysis.target_scores,
        "mean_gains.csv": analysis.mean_gains,
        "aggregates.csv": analysis.aggregates,
        "best_per_target.csv": analysis.best_per_target,
        "rank_agreement.csv": analysis.rank_agreement,
        "gain_vs_baseline.csv": analysis.baseline_correlations,
        "gain_vs_baseline_points.csv": analysis.baseline_points,
        "language_gains.csv": analysis.per_language,
        "language_features.csv": analysis.language_features,
        "languages.csv": language_frame(),
        "significance.csv": analysis.significance,
        "english_dev.csv": analysis.english_dev,
        "example_bootstrap.csv": example_note_table(analysis.example_notes),
    }


def headline(analysis: Analysis, synthetic: bool) -> dict[str, float]:
    """The numbers a pipeline logs as metrics (finite values only)."""
    values: dict[str, float] = {"synthetic_data": float(synthetic)}
    means = analysis.mean_gains
    for r in means[means["intermediate"] == ALL].itertuples():
        name = "mean_gain" if r.group == ALL else f"mean_gain.{r.group.replace(' ', '_')}"
        values[f"{name}.{r.architecture}"] = r.gain
    best = analysis.best_per_target
    for arch, group in best.groupby("architecture", sort=False):
        if group["gain"].notna().all() and len(group):
            values[f"best_per_target_gain.{arch}"] = float(group["gain"].mean())
    aggregates = analysis.aggregates
    for r in aggregates[(aggregates["intermediate"] == BEST)
                        & (aggregates["aggregate"] == "all_task")].itertuples():
        values[f"best_per_target_{r.benchmark}_gain.{r.architecture}"] = r.gain
    tau = analysis.rank_agreement
    tau = tau[tau["scope"] == ALL]["tau"].dropna()
    if len(tau):
        values["rank_agreement_mean_tau"] = float(tau.mean())
    table = analysis.significance
    for family in ("gain (seeds)", "gain (languages)"):
        tested = table[(table["family"] == family) & table["p_value"].notna()]
        key = family.replace(" (", "_").rstrip(")")
        values[f"significant_{key}"] = float(tested["significant"].sum())
        values[f"tested_{key}"] = float(len(tested))
    corr = analysis.baseline_correlations
    pooled = corr[(corr["points"] == "languages") & (corr["scope"] == ALL)]["spearman"]
    if len(pooled):
        values["gain_baseline_spearman"] = float(pooled.iloc[0])
    values["missing_cells"] = float((analysis.target_gains["status"] == "missing").sum())
    return {k: round(float(v), 6) for k, v in sorted(values.items())
            if v is not None and np.isfinite(v)}


def write_report(config: Any, scores: pd.DataFrame, gains: pd.DataFrame, folder: Path,
                 synthetic: bool, dev: list[dict] | None = None, *,
                 data_version: str | None = None, code_version: str | None = None,
                 predictions: Path | None = None, labels: Sequence[Path] = (),
                 example_bootstrap: bool = True) -> dict[str, float]:
    """Write the report into ``folder``; return its headline numbers.

    ``gains`` (the run's gains table) is not read: gains are recomputed from ``scores``
    per seed, which is the same definition, on the full grid so missing cells show.
    ``predictions`` is the run's leaderboard-layout predictions folder and ``labels`` the
    folders to look for gold labels in (leaderboard layout); with both, gains also get
    example-bootstrap intervals.
    """
    del gains
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    analysis = analyse(config, scores, dev, predictions,
                       [Path(p) for p in labels if Path(p).is_dir()], example_bootstrap)
    grid = analysis.grid
    if grid.settings and grid.targets:
        figures.gain_heatmap(analysis.target_gains, analysis.mean_gains, grid,
                             folder / "gain_heatmap.png", synthetic)
        figures.language_bars(analysis.per_language, grid, folder / "language_gains.png",
                              synthetic)
        figures.gain_baseline_scatter(analysis.baseline_points,
                                      analysis.baseline_correlations, grid,
                                      folder / "gain_vs_baseline.png", synthetic)
    for name, frame in csv_tables(analysis).items():
        write_csv(frame, folder / name, synthetic)
    title = f"Study {config.name}: English intermediate-task training and zero-shot transfer"
    label = banner(synthetic, grid.architectures)
    parts = sections(config, analysis, synthetic, data_version, code_version, folder)
    write_text(folder / "report.md", to_markdown(title, label, parts))
    write_text(folder / "report.html", to_html(title, label, parts))
    numbers = headline(analysis, synthetic)
    write_text(folder / "headline.json", json.dumps(numbers, indent=1) + "\n")
    return numbers
