"""The report's figures: a heatmap of gains (architecture × intermediate setting) per
target, per-language gain bars, and gain versus baseline strength. Missing cells are drawn
as missing (grey, "—"), never filled; synthetic-data runs say so in every title."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts.analysis.grid import ALL, Grid
from xstilts.analysis.language_metadata import LANGUAGES
from xstilts.atomic import atomic_path

SYNTHETIC_TITLE = "SYNTHETIC DATA (no real benchmark data)\n"
DPI = 110


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png", metadata={"Software": None})
    _pyplot().close(fig)


def _title(text: str, synthetic: bool) -> str:
    return (SYNTHETIC_TITLE if synthetic else "") + text


def gain_heatmap(target_gains: pd.DataFrame, mean_gains: pd.DataFrame, grid: Grid,
                 path: Path, synthetic: bool) -> None:
    """One panel per target (and one for the mean over targets): rows architectures,
    columns settings, cell = mean gain over seeds; † marks fewer seeds than asked for."""
    plt = _pyplot()
    overall = mean_gains[(mean_gains["group"] == ALL) & (mean_gains["intermediate"] != ALL)]
    overall = overall.assign(target="mean over targets")
    panels = [*grid.targets, "mean over targets"]
    frame = pd.concat([target_gains[["architecture", "intermediate", "target", "gain",
                                     "status"]],
                       overall[["architecture", "intermediate", "target", "gain", "status"]]])
    values = frame["gain"].to_numpy(dtype=float)
    limit = max(1.0, float(np.nanmax(np.abs(values)))) if np.isfinite(values).any() else 1.0
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    width = max(3.0, 1.6 + 0.55 * len(grid.settings))
    height = max(2.4, 1.4 + 0.38 * len(grid.architectures))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * width + 1.2, rows * height + 1.0),
                             squeeze=False, layout="constrained")
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#d9d9d9")
    image = None
    for ax, panel in zip(axes.flat, panels):
        part = frame[frame["target"] == panel].set_index(["architecture", "intermediate"])
        grid_values = np.full((len(grid.architectures), len(grid.settings)), np.nan)
        for r, arch in enumerate(grid.architectures):
            for c, inter in enumerate(grid.settings):
                if (arch, inter) in part.index:
                    gain = part.loc[(arch, inter), "gain"]
                    status = str(part.loc[(arch, inter), "status"])
                    grid_values[r, c] = gain
                    label = "—" if np.isnan(gain) else f"{gain:+.1f}"
                    if "fewer seeds" in status and not np.isnan(gain):
                        label += "†"
                else:
                    label = "—"
                ax.text(c, r, label, ha="center", va="center", fontsize=6)
        image = ax.imshow(np.ma.masked_invalid(grid_values), cmap=cmap, vmin=-limit,
                          vmax=limit, aspect="auto")
        ax.set_title(panel, fontsize=9)
        ax.set_xticks(range(len(grid.settings)), grid.settings, rotation=60, ha="right",
                      fontsize=6)
        ax.set_yticks(range(len(grid.architectures)), grid.architectures, fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6,
                     label="gain over no intermediate training (points)")
    fig.suptitle(_title("Gain from English intermediate-task training "
                        "(mean over seeds; — missing, † fewer seeds)", synthetic), fontsize=10)
    _save(fig, path)


def language_bars(per_language: pd.DataFrame, grid: Grid, path: Path, synthetic: bool
                  ) -> None:
    """Per zero-shot language, each architecture's gain averaged over settings and targets;
    languages ordered by resource class (Joshi et al.), then code."""
    plt = _pyplot()
    languages = sorted(set(per_language["language"]), key=lambda code: (
        -(LANGUAGES[code].joshi_class if code in LANGUAGES else -1), code))
    table = per_language.pivot_table(index="language", columns="architecture", values="gain",
                                     aggfunc="first", dropna=False)
    table = table.reindex(index=languages, columns=list(grid.architectures))
    count = max(1, len(grid.architectures))
    width = 0.8 / count
    fig, ax = plt.subplots(figsize=(max(6.0, 0.28 * len(languages) * max(1, count / 2)), 4.6),
                           layout="constrained")
    colors = plt.get_cmap("tab10")
    positions = np.arange(len(languages))
    for k, arch in enumerate(grid.architectures):
        heights = table[arch].to_numpy(dtype=float) if arch in table else np.full(
            len(languages), np.nan)
        offsets = positions - 0.4 + width * (k + 0.5)
        ax.bar(offsets, np.nan_to_num(heights), width=width, label=arch, color=colors(k % 10))
        for x, h in zip(offsets, heights):
            if np.isnan(h):
                ax.text(x, 0, "—", ha="center", va="bottom", fontsize=5)
    labels = [f"{code} ({LANGUAGES[code].joshi_class})" if code in LANGUAGES else code
              for code in languages]
    ax.set_xticks(positions, labels, rotation=90, fontsize=6)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("gain (points)")
    ax.set_xlabel("language (Joshi resource class)")
    ax.legend(fontsize=7, ncols=min(count, 5))
    ax.set_title(_title("Per-language gain, mean over intermediate settings and targets",
                        synthetic), fontsize=9)
    _save(fig, path)


def gain_baseline_scatter(points: pd.DataFrame, correlations: pd.DataFrame, grid: Grid,
                          path: Path, synthetic: bool) -> None:
    """Gain (mean over settings) against the baseline score, per architecture, target and
    zero-shot language."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    colors = plt.get_cmap("tab10")
    for k, arch in enumerate(grid.architectures):
        part = points[points["architecture"] == arch].dropna(subset=["baseline", "gain"])
        ax.scatter(part["baseline"], part["gain"], s=10, alpha=0.7, label=arch,
                   color=colors(k % 10))
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("baseline score (no intermediate training)")
    ax.set_ylabel("gain, mean over settings (points)")
    pooled = correlations[(correlations["points"] == "languages")
                          & (correlations["scope"] == ALL)]
    note = ""
    if not pooled.empty and not np.isnan(pooled["spearman"].iloc[0]):
        note = (f": Spearman ρ = {pooled['spearman'].iloc[0]:+.2f} "
                f"(p = {pooled['spearman_p'].iloc[0]:.2g}, n = {pooled['n'].iloc[0]})")
    ax.set_title(_title("Gain versus baseline strength" + note, synthetic), fontsize=9)
    if len(grid.architectures):
        ax.legend(fontsize=7)
    _save(fig, path)
