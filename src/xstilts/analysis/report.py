"""The run report: task scores and gains over the no-intermediate baseline per architecture,
with confidence intervals over seeds, as Markdown, HTML and a figure."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from xstilts.analysis.results import TASK_METRIC
from xstilts.atomic import atomic_path, write_text

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228}  # two-sided 95% Student t quantiles by degrees of freedom


def mean_ci(values: pd.Series) -> tuple[float, float]:
    """Mean and half-width of the 95% t-interval over seeds (0 for a single seed)."""
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, 0.0
    return mean, T_975.get(n - 1, 1.96) * float(values.std(ddof=1)) / math.sqrt(n)


def _per_seed(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean over languages for each (architecture, intermediate, target, seed)."""
    task = frame[frame["metric"] == TASK_METRIC]
    return (task.groupby(["architecture", "intermediate", "target", "seed"])[column]
            .mean().reset_index())


def summary_table(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows (architecture, intermediate), columns targets, cells "mean ± ci"."""
    per_seed = _per_seed(frame, column)
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for (arch, inter, target), group in per_seed.groupby(
            ["architecture", "intermediate", "target"], sort=True):
        mean, ci = mean_ci(group[column])
        sign = "+" if column == "gain" and mean >= 0 else ""
        cells.setdefault((arch, inter), {})[target] = (
            f"{sign}{mean:.1f}" + (f" ± {ci:.1f}" if ci else ""))
    table = pd.DataFrame.from_dict(cells, orient="index").sort_index()
    table.index = pd.MultiIndex.from_tuples(table.index, names=["architecture", "intermediate"])
    return table.fillna("")


def _markdown(table: pd.DataFrame) -> str:
    if table.empty:
        return "_(no rows)_\n"
    header = ["architecture", "intermediate", *table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (arch, inter), row in table.iterrows():
        lines.append("| " + " | ".join([arch, inter, *row.tolist()]) + " |")
    return "\n".join(lines) + "\n"


def _figure(gains: pd.DataFrame, path: Path) -> bool:
    """Heatmap of mean gains: rows architecture/intermediate, columns targets."""
    per_seed = _per_seed(gains, "gain")
    if per_seed.empty:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = per_seed.groupby(["architecture", "intermediate", "target"])["gain"].mean() \
        .unstack("target")
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * grid.shape[1], 0.8 + 0.4 * grid.shape[0]))
    limit = max(1.0, float(grid.abs().max().max()))
    image = ax.imshow(grid.values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=45, ha="right")
    ax.set_yticks(range(grid.shape[0]), [f"{a} / {i}" for a, i in grid.index])
    for (r, c), value in pd.DataFrame(grid.values).stack().items():
        ax.text(c, r, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="gain over no intermediate task (points)")
    ax.set_title("Zero-shot gain from English intermediate-task training")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png", metadata={"Software": None})
    plt.close(fig)
    return True


def dev_table(dev: list[dict]) -> pd.DataFrame:
    """English dev score of each trained target model, mean over seeds."""
    if not dev:
        return pd.DataFrame()
    frame = pd.DataFrame(dev)
    table = frame.groupby(["architecture", "intermediate", "target"])["dev_score"].mean() \
        .unstack("target").sort_index()
    return table.map(lambda v: f"{v:.1f}" if pd.notna(v) else "")


def _embedded_png(path: Path) -> str:
    """An <img> carrying the PNG itself: the HTML is one self-contained file, which is how
    the Kubeflow UI shows an HTML artifact (a relative image link would not load there)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="gains">'


def write_report(config: Any, scores: pd.DataFrame, gains: pd.DataFrame, folder: Path,
                 synthetic: bool, dev: list[dict] | None = None) -> None:
    """report.md, report.html and gains.png in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    banner = ("**SYNTHETIC DATA**: these scores come from the offline synthetic stand-in for "
              "the benchmarks and say nothing about the real tasks.\n\n" if synthetic else "")
    score_table = summary_table(scores, "value")
    gain_table = summary_table(gains, "gain") if not gains.empty else pd.DataFrame()
    english = dev_table(dev or [])
    has_figure = _figure(gains, folder / "gains.png") if not gains.empty else False
    seeds = len(config.seeds)
    note = (f"Mean over languages and {seeds} seed(s)"
            + (", ± the 95% t-interval over seeds." if seeds > 1 else "."))
    markdown = (
        f"# Study {config.name}\n\n{banner}"
        f"Task scores (accuracy, F1, (EM+F1)/2 for QA, mAP@20), {note}\n\n"
        f"## Scores\n\n{_markdown(score_table)}\n"
        f"## Gain over no intermediate training\n\n{_markdown(gain_table)}\n"
        + ("![gains](gains.png)\n\n" if has_figure else "")
        + "## English dev score of the trained target models (model selection)\n\n"
        + "Columns name the target whose model it is (XQuAD's model also serves MLQA).\n\n"
        + _markdown(english))
    write_text(folder / "report.md", markdown)
    body = (f"<h1>Study {html.escape(config.name)}</h1>"
            + (f"<p><strong>{html.escape(banner.strip('*: '))}</strong></p>" if banner else "")
            + f"<p>{html.escape(note)}</p><h2>Scores</h2>{score_table.to_html()}"
            + "<h2>Gain over no intermediate training</h2>"
            + (gain_table.to_html() if not gain_table.empty else "<p>(no rows)</p>")
            + (_embedded_png(folder / "gains.png") if has_figure else "")
            + "<h2>English dev score of the trained target models</h2>"
            + (english.to_html() if not english.empty else "<p>(no rows)</p>"))
    write_text(folder / "report.html",
               f"<!doctype html><html><head><meta charset='utf-8'><title>"
               f"{html.escape(config.name)}</title></head><body>{body}</body></html>\n")
