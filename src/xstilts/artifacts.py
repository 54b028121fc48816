"""What pipeline stages hand on to each other besides models: evaluation results, collected
in a tree of bounded width, and the files behind metrics artifacts.

An orchestrator passes a task's inputs on its command line, and one argument may not exceed
128 KiB on Linux, so a report cannot take thousands of evaluations' scores as parameters
(nor thousands of artifacts). Each evaluation therefore leaves its scores in its own output
folder (``record.json`` beside ``predictions/``), and collect tasks merge at most
``FANIN`` such folders at a time into one, until one folder holds every result:

    collected/
      records/<architecture>__<intermediate>__<seed>__<target>.json
      predictions/<architecture>/<intermediate>/<seed>/<task>/test-<lang>.<ext>
      labels/<task>/test-<lang>.<ext>

Gold labels depend only on the data, so every evaluation of a target leaves the same label
files and the merge keeps one copy; the report needs them for example-level bootstraps.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from xstilts.atomic import write_text

FANIN = 16
RECORD = "record.json"


def write_record(folder: Path, cell: dict, rows: list[dict], dev: dict | None) -> None:
    """An evaluation's record: its cell, score rows and, when it evaluated a trained target
    model, that model's English dev score (as the engine's run.json lists it)."""
    write_text(folder / RECORD, json.dumps({"cell": cell, "rows": rows, "dev": dev},
                                           indent=1) + "\n")


def dev_record(model_dir: Path, metadata: dict) -> dict | None:
    """The English dev score of a trained target model (its training log's best
    validation), or None for an encoder that was not trained on a target."""
    log = model_dir / "training_log.json"
    if "target" not in metadata or not log.is_file():
        return None
    results = json.loads(log.read_text(encoding="utf-8")).get("results") or [{}]
    return {"architecture": metadata["architecture"], "intermediate": metadata["intermediate"],
            "seed": int(metadata["seed"]), "target": metadata["target"],
            "dev_score": results[-1].get("best_score")}


def _cell_path(cell: dict) -> Path:
    return Path(cell["architecture"]) / cell["intermediate"] / str(cell["seed"])


def merge(parts: list[Path], out: Path) -> int:
    """Merge evaluation folders and collected folders into ``out``; return the number of
    evaluation records it holds."""
    (out / "records").mkdir(parents=True, exist_ok=True)
    (out / "predictions").mkdir(exist_ok=True)
    for part in parts:
        if (part / RECORD).is_file():  # one evaluation's output folder
            record = json.loads((part / RECORD).read_text(encoding="utf-8"))
            cell = record["cell"]
            name = "__".join(str(cell[k]) for k in ("architecture", "intermediate", "seed",
                                                    "target"))
            shutil.copyfile(part / RECORD, out / "records" / f"{name}.json")
            if (part / "predictions").is_dir():
                shutil.copytree(part / "predictions", out / "predictions" / _cell_path(cell),
                                dirs_exist_ok=True)
            if (part / "labels").is_dir():
                shutil.copytree(part / "labels", out / "labels", dirs_exist_ok=True)
        elif (part / "records").is_dir():  # an earlier merge
            shutil.copytree(part, out, dirs_exist_ok=True)
        else:
            raise ValueError(f"{part} holds neither an evaluation record nor merged records")
    return len(list((out / "records").glob("*.json")))


def read_collected(folder: Path) -> tuple[list[dict], list[dict], list[tuple[dict, Path]]]:
    """Score rows, English dev rows (one per trained model) and prediction folders per cell
    of a merged folder, in a fixed order."""
    rows, dev, cells = [], {}, {}
    for path in sorted((folder / "records").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        cell = record["cell"]
        rows.extend({**cell, **row} for row in record["rows"])
        if record.get("dev") is not None:
            d = record["dev"]
            dev[(d["architecture"], d["intermediate"], d["seed"], d["target"])] = d
        key = (cell["architecture"], cell["intermediate"], cell["seed"])
        cells[key] = (cell, folder / "predictions" / _cell_path(cell))
    return rows, [dev[k] for k in sorted(dev)], [cells[k] for k in sorted(cells)]


def log_scores(metrics: Any, target: str, rows: list[dict]) -> None:
    """Log every score row on a metrics artifact as ``<target>.<language>.<metric>`` (what
    the Kubeflow UI lists) and write the artifact's file."""
    for row in rows:
        metrics.log_metric(f"{target}.{row['language']}.{row['metric']}", float(row["value"]))
    write_metadata(metrics)


def write_metadata(artifact: Any) -> None:
    """Write a metrics artifact's metadata (its logged values) as JSON at its path.

    Metrics artifacts otherwise live only in the metadata store and leave no file behind;
    kfp.local treats a cached output whose file is missing as a cache miss, and a file is
    also what a user can read from the artifact store."""
    write_text(Path(artifact.path), json.dumps(artifact.metadata, indent=1, sort_keys=True)
               + "\n")
