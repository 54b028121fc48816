"""Report on an existing run folder (``xstilts report RUN_DIR``): read its scores, run
record and predictions, find gold labels, and write the report.

Gold labels for the example bootstrap are looked for, per target, in ``--labels`` folders
(leaderboard layout, e.g. from ``xstilts data labels``), then ``RUN_DIR/labels``, then the
evaluation stages' own ``labels/`` folders of an engine run (``RUN_DIR/stages/evaluate/*``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xstilts.analysis.report import write_report
from xstilts.analysis.results import KEYS, gains_frame
from xstilts.errors import UserError
from xstilts.study import StudyConfig


@dataclass
class RunFolder:
    """What a report needs from a run folder."""

    path: Path
    config: StudyConfig
    scores: pd.DataFrame
    dev: list[dict]
    data_version: str | None
    code_version: str | None
    synthetic: bool


def load_run(run_dir: Path) -> RunFolder:
    """Read a run folder; a missing folder, scores table or run record is a UserError."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        problem = "is not a folder" if run_dir.exists() else "no such folder"
        raise UserError(f"{run_dir}: {problem}; give the folder of a run (xstilts run --out)")
    scores_path = run_dir / "scores.parquet"
    if not scores_path.is_file():
        raise UserError(f"{run_dir}: no scores.parquet, so not a finished run folder "
                        "(xstilts run writes it when the study's evaluations are done)")
    try:
        scores = pd.read_parquet(scores_path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise UserError(f"{scores_path}: cannot be read ({type(error).__name__})") from None
    missing = [c for c in [*KEYS, "value"] if c not in scores.columns]
    if missing:
        raise UserError(f"{scores_path}: not a scores table (no column {missing[0]!r})")
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        raise UserError(f"{run_dir}: no run.json (the run record with the study config)")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        config = StudyConfig.model_validate(record["config"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise UserError(f"{record_path}: not a run record "
                        f"({str(error).splitlines()[0][:100]})") from None
    return RunFolder(path=run_dir, config=config, scores=scores,
                     dev=list(record.get("english_dev") or []),
                     data_version=record.get("data_version"),
                     code_version=record.get("code_version"),
                     synthetic=bool(record.get("data_synthetic", False)))


def label_folders(run_dir: Path, extra: Sequence[Path] = ()) -> list[Path]:
    """Where gold labels may be, in the order they are looked in."""
    found = [Path(p) for p in extra]
    found.append(run_dir / "labels")
    found += sorted((run_dir / "stages" / "evaluate").glob("*/labels"))
    return [p for p in found if p.is_dir()]


def report_run(run_dir: Path, out: Path | None = None, labels: Sequence[Path] = (),
               example_bootstrap: bool = True) -> tuple[Path, dict[str, float], RunFolder]:
    """Write the report of ``run_dir`` into ``out`` (default RUN_DIR/report)."""
    run = load_run(run_dir)
    for folder in labels:
        if not Path(folder).is_dir():
            raise UserError(f"--labels {folder}: no such folder")
    target = Path(out) if out is not None else run.path / "report"
    numbers = write_report(run.config, run.scores, gains_frame(run.scores), target,
                           synthetic=run.synthetic, dev=run.dev,
                           data_version=run.data_version, code_version=run.code_version,
                           predictions=run.path / "predictions",
                           labels=label_folders(run.path, labels),
                           example_bootstrap=example_bootstrap)
    return target, numbers, run
