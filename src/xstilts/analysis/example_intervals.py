"""Example-bootstrap intervals of gains: how much a gain could move with another draw of
test examples, from the run's leaderboard-layout predictions and gold labels.

Each resample draws a language's test units with replacement and scores every model on
the same draw (paired), so the baseline and the intermediate-trained model see the same
examples. A gain's draw is the mean over seeds of (setting − baseline); a target's draw is
the mean of its languages' draws, each language resampled on its own (stratified). Where a
target has no gold labels (the pipeline keeps only predictions) or the per-example parts
do not reproduce the reported scores, the report says so and leaves the interval empty.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts.analysis.bootstrap import SAMPLES, SEED, interval, ratio_draws
from xstilts.analysis.example_scores import example_parts, scores_of, suffix
from xstilts.analysis.seed_tables import SeedTables
from xstilts.errors import UserError
from xstilts.study import NONE

UNITS = {"xnli": "sentence pairs", "pawsx": "sentence pairs", "xcopa": "questions",
         "tatoeba": "sentences", "panx": "sentences", "udpos": "sentences",
         "bucc2018": "source sentences", "xquad": "questions", "mlqa": "questions",
         "tydiqa": "questions", "mewslix": "mentions", "lareqa": "questions"}
TOLERANCE = 1e-6  # per-example parts must reproduce the reported score this closely
_COLUMNS = ["architecture", "intermediate", "target", "language", "example_ci_low",
            "example_ci_high"]


@dataclass
class ExampleIntervals:
    """Intervals per language and per target (only where available), and per target a
    line saying what was resampled or why nothing was."""

    languages: pd.DataFrame
    targets: pd.DataFrame
    notes: dict[str, str] = field(default_factory=dict)


def label_folder(target: str, folders: Sequence[Path]) -> Path | None:
    """The first leaderboard-layout folder holding gold labels for ``target``."""
    return next((f for f in folders if (Path(f) / target).is_dir()), None)


def _generator(seed: int, target: str, language: str) -> np.random.Generator:
    """One stream per target and language: languages are resampled independently."""
    return np.random.default_rng([seed, zlib.crc32(f"{target}/{language}".encode())])


def example_intervals(tables: SeedTables, predictions: Path | None,
                      label_folders: Sequence[Path], samples: int = SAMPLES,
                      seed: int = SEED) -> ExampleIntervals:
    """Example-bootstrap intervals of every gain the run's files allow."""
    grid = tables.grid
    language_rows: list[dict] = []
    target_rows: list[dict] = []
    notes: dict[str, str] = {}
    if predictions is None or not Path(predictions).is_dir():
        notes = {t: "not available: the run folder has no predictions" for t in grid.targets}
        return ExampleIntervals(pd.DataFrame(columns=_COLUMNS),
                                pd.DataFrame(columns=_COLUMNS[:3] + _COLUMNS[4:]), notes)
    for target in grid.targets:
        labels = label_folder(target, label_folders)
        if labels is None:
            notes[target] = "not available: no gold labels for this target in the run folder"
            continue
        totals: dict[tuple[str, str], np.ndarray] = {}
        counts: dict[tuple[str, str], int] = {}
        problems: list[str] = []
        for language in grid.languages[target]:
            found = _language(tables, target, language, Path(predictions), labels, samples,
                              seed, problems)
            for (arch, inter), draws in found.items():
                low, high = interval(draws)
                language_rows.append({"architecture": arch, "intermediate": inter,
                                      "target": target, "language": language,
                                      "example_ci_low": low, "example_ci_high": high})
                totals[(arch, inter)] = totals.get((arch, inter), 0) + draws
                counts[(arch, inter)] = counts.get((arch, inter), 0) + 1
        expected = len(grid.languages[target])
        for (arch, inter), total in totals.items():
            if counts[(arch, inter)] == expected:
                low, high = interval(total / expected)
                target_rows.append({"architecture": arch, "intermediate": inter,
                                    "target": target, "example_ci_low": low,
                                    "example_ci_high": high})
        done = sum(1 for count in counts.values() if count == expected)
        note = (f"resampled {UNITS.get(target, 'examples')} ({samples} resamples, "
                f"{len(counts)} gain cells, {done} with every language)")
        if problems:
            shown = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            note += f"; skipped {len(problems)} language(s): {shown}"
        notes[target] = note if counts else "not available: " + "; ".join(problems[:3])
    return ExampleIntervals(pd.DataFrame(language_rows, columns=_COLUMNS),
                            pd.DataFrame(target_rows, columns=_COLUMNS[:3] + _COLUMNS[4:]),
                            notes)


def _language(tables: SeedTables, target: str, language: str, predictions: Path,
              labels: Path, samples: int, seed: int, problems: list[str]
              ) -> dict[tuple[str, str], np.ndarray]:
    """Gain draws per (architecture, setting) in one language ({} when not possible)."""
    grid = tables.grid
    name = f"test-{language}.{suffix(target)}"
    label_file = labels / target / name
    if not label_file.is_file():
        problems.append(f"{language}: no gold file")
        return {}
    cells, files = [], []
    for arch in grid.architectures:
        for inter in grid.intermediates:
            for s in grid.seeds:
                path = predictions / arch / inter / str(s) / target / name
                if path.is_file():
                    cells.append((arch, inter, s))
                    files.append(path)
    if not files:
        return {}
    try:
        parts = example_parts(target, language, label_file, files)
    except (ValueError, UserError, KeyError, TypeError, AttributeError) as error:
        problems.append(f"{language}: {str(error).splitlines()[0][:120]}")
        return {}
    reported = np.array([tables.language_scores.at[(a, i, target, language), s]
                         for a, i, s in cells], dtype=float)
    computed = scores_of(parts)
    known = ~np.isnan(reported)
    if not np.allclose(computed[known], reported[known], atol=TOLERANCE, rtol=0):
        problems.append(f"{language}: per-example scores do not reproduce the reported "
                        f"scores (other data or budget?)")
        return {}
    draws = ratio_draws(*parts, samples=samples, rng=_generator(seed, target, language))
    column = {cell: k for k, cell in enumerate(cells)}
    found = {}
    for arch in grid.architectures:
        for inter in grid.settings:
            pairs = [(column[(arch, inter, s)], column[(arch, NONE, s)]) for s in grid.seeds
                     if (arch, inter, s) in column and (arch, NONE, s) in column]
            if pairs:
                found[(arch, inter)] = np.mean([draws[:, x] - draws[:, y]
                                                for x, y in pairs], axis=0)
    return found
