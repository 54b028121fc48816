"""Prometheus metrics of every stage: training progress, evaluation scores, stage outcomes.

Each stage (and each run) has its own registry, written in exposition format to a file and,
when a Pushgateway is configured (``XSTILTS_PUSHGATEWAY``), pushed under job ``xstilts``
with a stable grouping key: the study and the stage's identity (stage kind, architecture,
intermediate, task, seed). Labels come only from those bounded sets, plus ``language`` and
``metric`` on scores; never a run id, so a rerun overwrites its group instead of adding
one. A failed push logs one warning per process and never fails the stage.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import pushadd_to_gateway

from xstilts.atomic import write_text

JOB = "xstilts"
GATEWAY_ENV = "XSTILTS_PUSHGATEWAY"
PUSH_TIMEOUT_S = 5.0
HEARTBEAT_S = 15.0  # training pushes its progress at most this often
STAGE_FILE = "metrics.prom"

log = logging.getLogger(__name__)
_warned = False
disable_created_metrics()  # no <name>_created series: they only add noise to every push


def use_gateway(address: str | None) -> None:
    """Push to ``address`` (a study config's ``monitoring.pushgateway``) unless the
    environment already names a gateway; stage subprocesses inherit the setting."""
    if address:
        os.environ.setdefault(GATEWAY_ENV, address)


def gateway() -> str | None:
    """The Pushgateway address from the environment (empty or unset: no pushing)."""
    return os.environ.get(GATEWAY_ENV) or None


@dataclass(frozen=True)
class Identity:
    """What a stage's metrics are grouped by: bounded values only."""

    study: str
    stage: str  # intermediate, target, evaluate, data, report or run
    architecture: str = ""
    intermediate: str = ""
    task: str = ""
    seed: str = ""

    @classmethod
    def for_stage(cls, study: str, kind: str, architecture: str, intermediate: str,
                  seed: int, target: str | None = None) -> Identity:
        """A study stage's identity (the task of an intermediate stage is its setting)."""
        return cls(study=study, stage=kind, architecture=architecture,
                   intermediate=intermediate, task=target or intermediate, seed=str(seed))

    def grouping_key(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}

    def file_stem(self) -> str:
        """A file name for this stage's metrics: unique within a study."""
        parts = [self.stage, self.architecture, self.intermediate, self.task, self.seed]
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(p for p in parts if p))


class StageMetrics:
    """The metrics of one stage (or one run), written to a file and pushed."""

    def __init__(self, identity: Identity, out_file: Path | None = None,
                 push_to: str | None = None) -> None:
        self.identity = identity
        self.out_file = out_file
        self.push_to = push_to if push_to is not None else gateway()
        self.registry = CollectorRegistry(auto_describe=True)
        self._last_push = 0.0
        self._started = time.time()
        self._metrics: dict[str, Counter | Gauge] = {}

    def _metric(self, kind: type, name: str, help_text: str,
                labels: tuple[str, ...] = ()) -> Any:
        """A metric of this stage, registered on first use: a stage exports only what it
        measured (an evaluation has no training loss, a CPU run no GPU memory)."""
        if name not in self._metrics:
            self._metrics[name] = kind(name, help_text, list(labels), registry=self.registry)
        return self._metrics[name]

    # ----------------------------------------------------------------- training

    def train_step(self, step: int, loss: float, learning_rate: float, examples: int,
                   tokens: int, seconds: float, planned: int) -> None:
        """Record one optimizer step; push at most every HEARTBEAT_S seconds."""
        m = self._metric
        m(Counter, "xstilts_train_steps", "Optimizer steps taken.").inc()
        m(Counter, "xstilts_train_examples", "Training examples consumed.").inc(examples)
        m(Counter, "xstilts_train_tokens",
          "Real (non-padding) training tokens consumed.").inc(tokens)
        m(Gauge, "xstilts_train_loss", "Training loss of the last step.").set(loss)
        m(Gauge, "xstilts_train_learning_rate",
          "Learning rate of the last step.").set(learning_rate)
        m(Gauge, "xstilts_train_step_duration_seconds",
          "Wall time of the last optimizer step.").set(seconds)
        m(Gauge, "xstilts_train_planned_steps",
          "Optimizer steps the stage plans to take.").set(planned)
        m(Gauge, "xstilts_train_last_progress_timestamp_seconds",
          "When the stage last made training progress.").set(time.time())
        if time.monotonic() - self._last_push >= HEARTBEAT_S or step == planned:
            self.push()

    # --------------------------------------------------------------- evaluation

    def scores(self, rows: list[dict]) -> None:
        """Scores as result rows (language, metric, value on the 0-100 scale)."""
        score = self._metric(Gauge, "xstilts_eval_score_ratio",
                             "Zero-shot evaluation score (0 to 1) per language.",
                             ("language", "metric"))
        for row in rows:
            value = float(row["value"])
            if math.isfinite(value):
                score.labels(language=row["language"], metric=row["metric"]).set(value / 100)

    # ------------------------------------------------------------------- ending

    def finish(self, success: bool) -> None:
        """Record the stage's outcome; write the file and push."""
        m = self._metric
        m(Gauge, "xstilts_stage_duration_seconds",
          "Wall time of the stage.").set(time.time() - self._started)
        m(Gauge, "xstilts_stage_success",
          "1 when the stage succeeded, 0 when it failed.").set(1 if success else 0)
        m(Gauge, "xstilts_stage_completion_timestamp_seconds", "When the stage ended.").set(
            time.time())
        self._gpu_peak()
        self.write()
        self.push()

    def _gpu_peak(self) -> None:
        import sys

        torch = sys.modules.get("torch")  # only a stage that used torch has a GPU peak
        if torch is not None and torch.cuda.is_available():
            self._metric(Gauge, "xstilts_gpu_peak_memory_bytes",
                         "Peak GPU memory allocated by the stage.").set(
                torch.cuda.max_memory_allocated())

    def text(self) -> str:
        """The stage's metrics in exposition format, labelled with its grouping key."""
        return label_exposition(generate_latest(self.registry).decode(),
                                {"job": JOB, **self.identity.grouping_key()})

    def write(self) -> None:
        if self.out_file is not None:
            write_text(self.out_file, self.text())

    def push(self) -> None:
        """Push to the gateway (POST: replaces this group's metrics of the same names)."""
        self._last_push = time.monotonic()
        if not self.push_to:
            return
        try:
            pushadd_to_gateway(self.push_to, job=JOB, registry=self.registry,
                               grouping_key=self.identity.grouping_key(),
                               timeout=PUSH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - monitoring never fails a stage
            _warn_once(f"could not push metrics to the Pushgateway at {self.push_to} "
                       f"({type(exc).__name__}: {exc}); the stage goes on, and its "
                       f"metrics are in its {STAGE_FILE} file")


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning(message)


def run_metrics(study: str, success: bool, seconds: float | None, out_file: Path | None,
                push_to: str | None = None) -> str:
    """The run's outcome (stage "run"): written, pushed, and returned as text. The last
    success timestamp is only set by a successful run, and the push only replaces metrics
    of the same names, so a failed run leaves the previous success time in place."""
    registry = CollectorRegistry(auto_describe=True)
    now = time.time()
    Gauge("xstilts_run_success", "1 when the run succeeded, 0 when it failed.",
          registry=registry).set(1 if success else 0)
    if seconds is not None:  # a pipeline's exit handler does not know when the run began
        Gauge("xstilts_run_duration_seconds", "Wall time of the run.",
              registry=registry).set(seconds)
    Gauge("xstilts_run_completion_timestamp_seconds", "When the run ended.",
          registry=registry).set(now)
    if success:
        Gauge("xstilts_run_last_success_timestamp_seconds", "When a run last succeeded.",
              registry=registry).set(now)
    identity = Identity(study=study, stage="run")
    target = push_to if push_to is not None else gateway()
    if target:
        try:
            pushadd_to_gateway(target, job=JOB, registry=registry,
                               grouping_key=identity.grouping_key(), timeout=PUSH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001
            _warn_once(f"could not push the run's metrics to the Pushgateway at {target} "
                       f"({type(exc).__name__}: {exc})")
    text = label_exposition(generate_latest(registry).decode(),
                            {"job": JOB, **identity.grouping_key()})
    if out_file is not None:
        write_text(out_file, text)
    return text


def label_exposition(text: str, labels: dict[str, str]) -> str:
    """Add ``labels`` to every sample of an exposition text (what the Pushgateway adds
    when it exposes a group), so files of several stages can be merged."""
    from prometheus_client.parser import text_string_to_metric_families

    families = list(text_string_to_metric_families(text))
    for family in families:
        family.samples = [s._replace(labels={**labels, **s.labels}) for s in family.samples]
    return render(families)


def merge_files(paths: list[Path]) -> str:
    """One exposition text from several stages' files: samples of the same family are
    gathered under one HELP/TYPE header, as the format requires."""
    from prometheus_client.parser import text_string_to_metric_families

    merged: dict[str, object] = {}
    for path in sorted(paths):
        for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
            if family.name in merged:
                merged[family.name].samples.extend(family.samples)  # type: ignore[attr-defined]
            else:
                merged[family.name] = family
    return render(list(merged.values()))  # type: ignore[arg-type]


def render(families: list) -> str:
    """Exposition text of parsed metric families."""
    registry = CollectorRegistry(auto_describe=False)

    class _Fixed:
        def collect(self) -> list:
            return families

    registry.register(_Fixed())  # type: ignore[arg-type]
    return generate_latest(registry).decode()


# --------------------------------------------------------------------------- stages & runs

METRICS_DIR = "metrics"  # per-stage files inside a run folder
RUN_FILE = "metrics.prom"  # all of a run's metrics


@contextmanager
def observed(identity: Identity, metrics_dir: Path | None) -> Iterator[StageMetrics]:
    """The metrics of a stage that runs inside the block: its outcome and duration are
    recorded whether it succeeds or raises."""
    out = metrics_dir / f"{identity.file_stem()}.prom" if metrics_dir else None
    metrics = StageMetrics(identity, out)
    try:
        yield metrics
    except BaseException:
        metrics.finish(False)
        raise
    metrics.finish(True)


def observed_evaluation(study: str, architecture: str, intermediate: str, seed: int,
                        target: str, metrics_dir: str) -> Any:
    """``observed`` for an evaluation component (``metrics_dir`` empty: no file)."""
    identity = Identity.for_stage(study, "evaluate", architecture, intermediate, seed, target)
    return observed(identity, Path(metrics_dir) if metrics_dir else None)


def training_monitor(identity: Identity, metrics_dir: Path | None) -> dict:
    """What a training stage needs to report its progress (JSON-safe, so it also reaches
    the processes of a data-parallel stage)."""
    out = metrics_dir / f"{identity.file_stem()}.train.prom" if metrics_dir else None
    return {"identity": asdict(identity), "file": str(out) if out else None}


def training_metrics(monitor: dict | None) -> StageMetrics | None:
    """The training-progress metrics described by ``training_monitor`` (None: none)."""
    if not monitor:
        return None
    out = Path(monitor["file"]) if monitor.get("file") else None
    return StageMetrics(Identity(**monitor["identity"]), out)


def finish_run(run_dir: Path, study: str, success: bool, seconds: float | None) -> Path:
    """Record the run's outcome and write ``RUN_DIR/metrics.prom``: every stage's metrics
    (stages done in earlier runs of the folder included) and the run's own."""
    folder = run_dir / METRICS_DIR
    run_metrics(study, success, seconds, folder / "run.prom")
    target = run_dir / RUN_FILE
    write_text(target, merge_files(list(folder.glob("*.prom"))))
    return target
