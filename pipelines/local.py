"""Run the study pipeline on this machine through ``kfp.local`` (no cluster).

The compiled pipeline is the one a cluster runs; each task runs as a subprocess of this
Python (``SubprocessRunner(use_venv=False)``: the project's environment, no pip). The data
version and model fingerprints are known here, so every stage's cache key is its
content-addressed stage key and a rerun (after a crash, or with more seeds) runs only the
stages that are missing. Task outputs and the cache live in ``RUN_DIR/.kfp``; the results
are published into ``RUN_DIR`` by the pipeline's publish task.
"""

# No "from __future__ import annotations": pipelines.study builds KFP functions.

import contextlib
import io
import json
import logging
import re
import time
import warnings
from pathlib import Path
from typing import Callable, Optional, TextIO

from xstilts.atomic import write_text
from xstilts.errors import UserError
from xstilts.monitoring.metrics import use_gateway
from xstilts.runner import model_version, prepare_data, prepare_models
from xstilts.study import StudyConfig

KFP_DIR = ".kfp"
LOG = "pipeline.log"

# (status, task label, seconds): "started", "finished", "cached" or "failed"
TaskEvent = Callable[[str, str, float], None]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"Executing task '([^']+)'")
_ENDED = re.compile(r"Task '([^']+)' finished with status (\w+)")
_CACHED = re.compile(r"Task (\S+) cache hit")


class TaskLog(io.TextIOBase):
    """Takes kfp.local's console output (its own log lines and every task's streamed
    output): keeps all of it in the run's log file and turns task starts, ends and cache
    hits into events, so the console shows one line per stage instead of every log."""

    def __init__(self, file: TextIO, labels: dict[str, str], on_event: Optional[TaskEvent]):
        self.file, self.labels, self.on_event = file, labels, on_event
        self.pending = ""
        self.started: dict[str, float] = {}
        self.lines: list[str] = []  # the output of the task that runs now
        self.failure: Optional[tuple[str, list[str]]] = None  # first failed task, its output
        self.counts: dict[str, int] = {}  # status → tasks

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.file.write(text)
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._event(_ANSI.sub("", line))
        return len(text)

    def flush(self) -> None:
        self.file.flush()

    def _event(self, line: str) -> None:
        event = None
        if match := _STARTED.search(line):
            self.started[match[1]] = time.perf_counter()
            self.lines = []
            event = ("started", match[1], 0.0)
        elif match := _ENDED.search(line):
            seconds = time.perf_counter() - self.started.pop(match[1], time.perf_counter())
            event = ("finished" if match[2] == "SUCCESS" else "failed", match[1], seconds)
            if event[0] == "failed" and self.failure is None:
                self.failure = (self.labels.get(match[1], match[1]), self.lines[-15:])
        elif match := _CACHED.search(line):
            event = ("cached", match[1], 0.0)
        elif line.strip():
            self.lines.append(line.strip())
        if event:
            status, name, seconds = event
            if status != "started":
                self.counts[status] = self.counts.get(status, 0) + 1
            if self.on_event:
                self.on_event(status, self.labels.get(name, name), seconds)


def task_labels(pipeline: Callable) -> dict[str, str]:
    """KFP task name → display name (the stage label) for every container task of the
    pipeline (not the ExitHandler's group)."""
    spec = pipeline.pipeline_spec
    labels = {}
    for component in [spec.root, *spec.components.values()]:
        if component.WhichOneof("implementation") == "dag":
            for name, task in component.dag.tasks.items():
                runs = spec.components[task.component_ref.name]
                if runs.WhichOneof("implementation") == "executor_label":
                    labels[name] = task.task_info.name
    return labels


class PipelineFailed(UserError):
    """A task of the local pipeline failed; finished stages are kept for the rerun."""

    exit_code = 1


def absolute_data(config: StudyConfig) -> StudyConfig:
    """The config with its data folder made absolute (tasks may run in another folder)."""
    data = config.data.model_copy(update={"out": config.data.out.resolve()})
    return config.model_copy(update={"data": data})


def run_local(config: StudyConfig, run_dir: Path, on_event: Optional[TaskEvent] = None,
              on_planned: Optional[Callable[[int], None]] = None,
              data_version: Optional[str] = None, data_rev: str = "") -> dict:
    """Run ``config``'s pipeline through kfp.local; return the run record (run.json).
    ``data_version`` pins the data the run must find (default: what the folder holds);
    ``data_rev``, a git revision whose recorded data the first task pulls.
    The full console output of the pipeline goes to ``RUN_DIR/.kfp/pipeline.log``."""
    from kfp import local

    from pipelines.study import build_pipeline

    started = time.perf_counter()
    use_gateway(config.monitoring.pushgateway)
    config = absolute_data(config)
    run_dir = run_dir.resolve()
    manifest = prepare_data(config)
    versions = {name: model_version(arch) for name, arch in prepare_models(config).items()}
    with warnings.catch_warnings():
        # kfp warns, for every task, that pod resources and the image have no effect in a
        # subprocess: true, and expected here.
        warnings.filterwarnings("ignore", category=UserWarning, module="kfp")
        warnings.filterwarnings("ignore", message=".*base image", category=RuntimeWarning)
        pipeline = build_pipeline(config, data_root=str(config.data.out.parent),
                                  data_version=data_version or manifest["data_version"],
                                  model_versions=versions, run_dir=str(run_dir),
                                  retries=False, data_rev=data_rev,
                                  checkpoint_root=str(run_dir / KFP_DIR / "checkpoints"))
        local.init(runner=local.SubprocessRunner(use_venv=False),
                   pipeline_root=str(run_dir / KFP_DIR / "outputs"),
                   cache_root=str(run_dir / KFP_DIR / "cache"),
                   enable_caching=True, raise_on_error=True)
        labels = task_labels(pipeline)
        if on_planned:
            on_planned(len(labels))
        (run_dir / "outcome.json").unlink(missing_ok=True)
        log_path = run_dir / KFP_DIR / LOG
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log_file:
            tee = TaskLog(log_file, labels, on_event)
            try:
                with contextlib.redirect_stdout(tee), _info_logs_to(tee):
                    pipeline()
            except RuntimeError as exc:
                raise PipelineFailed(_failure(log_path, tee, exc)) from None
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    record.update({"backend": "kfp.local", "outcome": _outcome(run_dir),
                   "tasks": {"total": len(labels), **tee.counts},
                   "seconds": round(time.perf_counter() - started, 3)})
    write_text(run_dir / "run.json", json.dumps(record, indent=2, default=str) + "\n")
    return record


@contextlib.contextmanager
def _info_logs_to(stream: TextIO):
    """Send INFO logs to ``stream`` while the pipeline runs: kfp.local logs cache hits
    outside its own logging context, where they would otherwise be dropped."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _outcome(run_dir: Path) -> dict:
    path = run_dir / "outcome.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _failure(log_path: Path, log: TaskLog, exc: RuntimeError) -> str:
    """One message for a failed local run: the failing stage and the end of its output,
    where the full log is, and that a rerun resumes."""
    if log.failure is None:
        what = _ANSI.sub("", str(exc)).strip() or type(exc).__name__
    else:
        label, lines = log.failure
        shown = "\n".join(f"    {line}" for line in lines)
        what = f"stage '{label}' failed; the end of its output:\n{shown}"
    return (f"the study pipeline failed: {what}\nFull log: {log_path}. Finished stages are "
            f"cached in {log_path.parent}; rerun the same command to resume.")
