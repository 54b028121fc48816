"""Run a study on this machine: prepare data and models, run the planned stages in
dependency order (skipping those already done), and write the run folder.

    RUN_DIR/
      scores.parquet (+ .csv)   one row per (architecture, intermediate, seed, target, language, metric)
      gains.parquet (+ .csv)    score minus the same architecture+seed's no-intermediate score
      predictions/<arch>/<intermediate>/<seed>/<task>/test-<lang>.<ext>
      labels/<task>/test-<lang>.<ext>   the gold labels they were scored against
      report/report.md, report.html, *.png
      run.json                  config, data version, code version, stage timings
      stages/<kind>/<key>/      every stage's output, addressed by its key

A stage's output folder is written under a temporary name and renamed when complete, so an
interrupted run leaves only finished stages behind and picks up from there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from xstilts.analysis.report import write_report
from xstilts.analysis.results import gains_frame, scores_frame, write_frame
from xstilts.atomic import atomic_path, write_text
from xstilts.data.fetch import MANIFEST, fetch, read_manifest, units_for
from xstilts.errors import UserError
from xstilts.models.registry import Architecture, resolve_architecture
from xstilts.monitoring.metrics import (
    METRICS_DIR,
    Identity,
    finish_run,
    observed,
    training_monitor,
    use_gateway,
)
from xstilts.study import NONE, Stage, StudyConfig, code_version, plan, stage_key
from xstilts.tasks.catalogue import get_task

VALIDATION_DIR = "validation"  # the data validation report inside a run folder
PASSED_FILE = "passed"  # in it: the key of the data, code and tasks that passed

# (status, stage, value): "planned" (value = number of stages; stage None), "started",
# "progress" (value = fraction of the stage done), "finished" (value = seconds), "skipped".
Event = Callable[[str, Stage | None, float], None]


def with_data_root(config: StudyConfig, data_root: str) -> StudyConfig:
    """The config with a relative data folder taken under ``data_root`` (a pipeline's
    shared volume)."""
    if config.data.out.is_absolute():
        return config
    data = config.data.model_copy(update={"out": Path(data_root) / config.data.out})
    return config.model_copy(update={"data": data})


def prepare_data(config: StudyConfig) -> dict:
    """The data folder's manifest. Synthetic tables the study needs and the folder lacks
    (an empty folder, or one fetched before a task was added) are generated first; missing
    real tables are an error naming the fetch command."""
    data_dir = config.data.out
    names = config.data_tasks()
    have = ({u["key"] for u in read_manifest(data_dir)["units"]}
            if (data_dir / MANIFEST).exists() else set())
    missing = [u for u in units_for(names) if u.key not in have]
    if missing and config.data.source != "synthetic":
        tasks = ",".join(dict.fromkeys(u.corpus for u in missing))
        raise UserError(f"{data_dir} lacks {len(missing)} tables the study needs (e.g. "
                        f"{missing[0].key}); run 'xstilts data fetch --source "
                        f"{config.data.source} --out {data_dir} --tasks {tasks}' first")
    if missing:
        from xstilts.data.synthetic import SyntheticSource

        wanted = units_for(None) if not have else missing
        with SyntheticSource(seed=config.data.seed) as source:
            fetch(wanted, source, data_dir, synthetic=True, origin="synthetic")
    return read_manifest(data_dir)


def record_data_version(config: StudyConfig) -> dict | None:
    """The prepared data folder's DVC version record for the run's results, recording a
    new version first when the folder changed (None outside a DVC repository)."""
    from xstilts.data.versioning import record, repo_root, status, version_record

    data_dir = config.data.out
    if repo_root(data_dir) is None:
        return None
    if status(data_dir)["state"] != "match":
        return record(data_dir)
    return version_record(data_dir, matches=True)


def require_valid_data(config: StudyConfig, report_dir: Path,
                       metrics_dir: Path | None = None) -> None:
    """Validate the study's data (report in ``report_dir``; the "data" stage's metrics in
    ``metrics_dir``); stop before any training when an expectation fails."""
    from xstilts.validation.validate import failure_message, validate

    # Validation is a function of the data, the code and the tasks: a rerun on the same
    # ones (a warm run) reuses the verdict, as the pipeline's cached validation task does.
    key = stage_key("validate", read_manifest(config.data.out)["data_version"],
                    code_version(), config.data_tasks())
    passed = report_dir / PASSED_FILE
    with observed(Identity(study=config.name, stage="data"), metrics_dir):
        if passed.is_file() and passed.read_text(encoding="utf-8").strip() == key:
            return
        passed.unlink(missing_ok=True)
        outcome = validate(config.data.out, config.data_tasks(), report_dir)
        if not outcome.success:
            raise UserError(failure_message(outcome) +
                            f"; details: {report_dir / 'summary.md'}")
        write_text(passed, key + "\n")


def prepare_models(config: StudyConfig) -> dict[str, Architecture]:
    """Resolve every architecture, building the tiny offline models when they are missing."""
    data_dir = config.data.out
    tiny = [a for a in config.architectures
            if a.startswith("tiny-") and not (data_dir / "models" / a).is_dir()]
    if tiny:
        from xstilts.models.tiny import build_tiny

        build_tiny(data_dir, tiny)
    return {a: resolve_architecture(a, data_dir) for a in config.architectures}


def model_version(arch: Architecture) -> str:
    """Fingerprint of a model's weights and config (a hub id stands for itself)."""
    path = Path(arch.model_id)
    if not path.is_dir():
        return arch.model_id
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file():
            digest.update(f"{file.relative_to(path)}\0{file.stat().st_size}\0".encode())
            if file.stat().st_size < (256 << 20):
                digest.update(file.read_bytes())
    return digest.hexdigest()


def stage_dir(run_dir: Path, stage: Stage) -> Path:
    return run_dir / "stages" / stage.kind / stage.key


def run_study(config: StudyConfig, run_dir: Path, on_event: Event | None = None) -> dict:
    """Run every stage of the study that is not done yet; write the run folder (with the
    run's metrics in ``metrics.prom``, also when it fails)."""
    started = time.perf_counter()
    use_gateway(config.monitoring.pushgateway)
    try:
        summary = _run_study(config, run_dir, on_event, started)
    except BaseException:
        finish_run(run_dir, config.name, False, time.perf_counter() - started)
        raise
    finish_run(run_dir, config.name, True, time.perf_counter() - started)
    return summary


def _run_study(config: StudyConfig, run_dir: Path, on_event: Event | None,
               started: float) -> dict:
    manifest = prepare_data(config)
    require_valid_data(config, run_dir / VALIDATION_DIR, run_dir / METRICS_DIR)
    archs = prepare_models(config)
    dvc = record_data_version(config)
    code = code_version()
    stages = plan(config, manifest["data_version"], code,
                  {name: model_version(a) for name, a in archs.items()})
    by_key = {s.key: s for s in stages}
    if on_event:
        on_event("planned", None, len(stages))
    timings = []
    for stage in stages:
        out = stage_dir(run_dir, stage)
        if (out / "done.json").exists():
            timings.append({"stage": stage.label, "key": stage.key, "status": "skipped"})
            if on_event:
                on_event("skipped", stage, 0.0)
            continue
        if on_event:
            on_event("started", stage, 0.0)
        begin = time.perf_counter()
        inputs = [stage_dir(run_dir, by_key[k]) for k in stage.needs]
        identity = Identity.for_stage(config.name, stage.kind, stage.architecture,
                                      stage.intermediate, stage.seed, stage.target)
        with atomic_path(out) as tmp, observed(identity, run_dir / METRICS_DIR) as metrics:
            tmp.mkdir()
            report = (lambda done, total, s=stage: on_event("progress", s, done / total)
                      ) if on_event else None
            resume = run_dir / "stages" / "resume" / stage.key
            _run_stage(stage, archs[stage.architecture], inputs, config, tmp, report, resume,
                       training_monitor(identity, run_dir / METRICS_DIR))
            if stage.kind == "evaluate":
                metrics.scores(json.loads((tmp / "scores.json").read_text(encoding="utf-8")))
            write_text(tmp / "done.json", json.dumps({"stage": stage.label,
                                                      "key": stage.key}) + "\n")
        shutil.rmtree(run_dir / "stages" / "resume" / stage.key, ignore_errors=True)
        seconds = time.perf_counter() - begin
        timings.append({"stage": stage.label, "key": stage.key, "status": "ran",
                        "seconds": round(seconds, 3)})
        if on_event:
            on_event("finished", stage, seconds)
    with observed(Identity(study=config.name, stage="report"), run_dir / METRICS_DIR):
        summary = _collect(config, run_dir, stages, manifest, code)
    summary["data_dvc"] = dvc
    summary["backend"] = "engine"
    summary["timings"] = timings
    summary["seconds"] = round(time.perf_counter() - started, 3)
    write_text(run_dir / "run.json", json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def _run_stage(stage: Stage, arch: Architecture, inputs: list[Path], config: StudyConfig,
               out: Path, progress: Callable[[int, int], None] | None,
               resume_dir: Path | None = None, monitor: dict | None = None) -> None:
    from xstilts.evaluation.stages import evaluate_target
    from xstilts.training.distributed import run_stage

    data_dir = config.data.out
    init = inputs[0] if inputs else None
    if stage.kind == "intermediate":
        run_stage("train_intermediate", config.processes(stage.architecture), arch=arch,
                  tasks=config.members(stage.intermediate), data_dir=data_dir, out=out,
                  preset=config.recipe, sampling=config.sampling, budget=config.budget,
                  seed=stage.seed, progress=progress, resume_dir=resume_dir, monitor=monitor)
    elif stage.kind == "target":
        run_stage("train_any_target", config.processes(stage.architecture), arch=arch,
                  init=init, task=get_task(stage.target or ""), data_dir=data_dir, out=out,
                  preset=config.recipe, budget=config.budget, seed=stage.seed,
                  progress=progress, resume_dir=resume_dir, monitor=monitor)
    else:
        evaluate_target(arch, init, get_task(stage.target or ""), data_dir, out,
                        config.recipe, config.budget, progress)


def _collect(config: StudyConfig, run_dir: Path, stages: list[Stage], manifest: dict,
             code: str) -> dict:
    """Gather every evaluation's stage folder into the run's tables, predictions and report."""
    rows, predictions, labels = [], [], []
    for stage in stages:
        if stage.kind != "evaluate":
            continue
        out = stage_dir(run_dir, stage)
        cell = {"architecture": stage.architecture, "intermediate": stage.intermediate,
                "seed": stage.seed, "target": stage.target}
        rows.extend({**cell, **row}
                    for row in json.loads((out / "scores.json").read_text(encoding="utf-8")))
        predictions.append((cell, out / "predictions"))
        labels.append(out / "labels")
    return write_results(config, run_dir, rows, _english_dev(run_dir, stages), predictions,
                         labels,
                         data_version=manifest["data_version"],
                         synthetic=manifest["synthetic"], code=code, stages=len(stages))


def write_results(config: StudyConfig, run_dir: Path, rows: list[dict], dev: list[dict],
                  predictions: list[tuple[dict, Path]], labels: list[Path], *,
                  data_version: str, synthetic: bool, code: str, stages: int) -> dict:
    """Write a run's results: scores and gains tables, predictions, gold labels (from the
    ``labels`` folders, leaderboard layout), report; return the run record (config, data
    and code versions). The local runner and the pipeline's report stage both write their
    results here, so the two give the same folder."""
    folder = run_dir / "predictions"
    with atomic_path(folder) as staged:
        staged.mkdir()
        for cell, source in predictions:
            if source.is_dir():
                destination = staged / cell["architecture"] / cell["intermediate"] / \
                    str(cell["seed"])
                shutil.copytree(source, destination, dirs_exist_ok=True)
    with atomic_path(run_dir / "labels") as staged:
        staged.mkdir()
        for source in labels:
            if source.is_dir():
                shutil.copytree(source, staged, dirs_exist_ok=True)
    dev = sorted(dev, key=lambda d: (d["architecture"], d["intermediate"], d["seed"],
                                     d["target"]))
    scores = scores_frame(rows)
    gains = gains_frame(scores)
    write_frame(scores, run_dir, "scores")
    write_frame(gains, run_dir, "gains")
    write_report(config, scores, gains, run_dir / "report", synthetic=synthetic, dev=dev,
                 data_version=data_version, code_version=code, predictions=folder,
                 labels=[run_dir / "labels"])
    return {
        "study": config.name,
        "config": config.model_dump(mode="json"),
        "data_version": data_version,
        "data_synthetic": synthetic,
        "code_version": code,
        "baseline": NONE,
        "stages": stages,
        "english_dev": dev,
    }


def _english_dev(run_dir: Path, stages: list[Stage]) -> list[dict]:
    """The English dev score that selected each trained target model (its best validation)."""
    rows = []
    for stage in stages:
        if stage.kind != "target":
            continue
        log = json.loads((stage_dir(run_dir, stage) / "training_log.json")
                         .read_text(encoding="utf-8"))
        rows.append({"architecture": stage.architecture, "intermediate": stage.intermediate,
                     "seed": stage.seed, "target": stage.target,
                     "dev_score": log["results"][-1]["best_score"]})
    return rows
