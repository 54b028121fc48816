"""The study pipeline, generated from a study config.

One KFP task per stage of ``xstilts.study.plan`` (so intermediate encoders are trained once
per (architecture, intermediate, seed) and target models are deduplicated exactly as the
engine does), wired along each stage's ``needs``:

    prepare_data   (materialises the data version, optionally that of a git revision)
      → validate_data (Great Expectations suites; Data Docs and summary as artifacts)
      → data_gate     (stops the run on any failed expectation; prepares the models)
      → train_intermediate  (one per architecture × intermediate ≠ none × seed)
      → train_target        (from the intermediate encoder, or the pretrained model)
      → evaluate[_<target>] (trained targets) / evaluate_retrieval (BUCC, Tatoeba)
      → collect             (merges ≤ FANIN evaluation outputs per task, level by level)
      → report              (the scores, gains and report: tables, Markdown, HTML)
      → publish             (copies the results to the run folder; not cached)
    all inside a dsl.ExitHandler whose exit task records the run outcome.

When the data version is known at compile time (``xstilts run`` locally; ``xstilts compile``
next to a data folder), each stage's cache key is its content-addressed stage key.
Otherwise ``plan`` gets a placeholder and the keys only identify stages.
"""

# No "from __future__ import annotations": KFP reads the pipeline function's real types.

import contextlib
import functools
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from kfp import compiler, dsl

import components
from pipelines import resources
from xstilts.artifacts import FANIN
from xstilts.atomic import atomic_path
from xstilts.errors import UserError
from xstilts.models.registry import REGISTRY, TINY_NAMES, resolve_architecture
from xstilts.monitoring.metrics import GATEWAY_ENV, METRICS_DIR
from xstilts.study import Stage, StudyConfig, code_version, plan, stage_key, trains_target
from xstilts.tasks.catalogue import get_task

COMPILE_DATA_VERSION = "compile-time"
"""The data version ``plan`` gets at compile time (keys only identify stages here)."""


def architecture_size(name: str, config: StudyConfig) -> str:
    """Size class of an architecture for GPU sizing, without touching the network when the
    name is a registry or tiny name; an unresolvable model counts as "large"."""
    if name in REGISTRY:
        return REGISTRY[name].size
    if name in TINY_NAMES:
        return "tiny"
    try:
        return resolve_architecture(name, config.data.out).size
    except UserError:
        return "large"


def pipeline_name(config: StudyConfig) -> str:
    """A KFP-friendly pipeline name from the study name."""
    slug = re.sub(r"[^a-z0-9-]+", "-", config.name.lower()).strip("-")
    return f"xstilts-{slug or 'study'}"


def study_stages(config: StudyConfig, data_version: str = "",
                 model_versions: Optional[dict[str, str]] = None) -> list[Stage]:
    """The study plan as the pipeline sees it. Without a data version (compiling with no
    local data), stage keys get a placeholder and only identify stages."""
    return plan(config, data_version or COMPILE_DATA_VERSION, code_version(),
                model_versions or {a: a for a in config.architectures})


@contextlib.contextmanager
def _fast_kfp():
    """Two costs of kfp 2.17.3 that grow with the number of tasks, removed while a
    pipeline is built and compiled (the originals are restored afterwards):

    * ``PipelineTask._ensure_container_spec_exists`` (called by every resource setter)
      takes ``inspect.stack()`` just to name its caller in an error message, reading the
      source of every frame: ~18 ms per call. Swapped for the same check naming the caller
      from ``sys._getframe``.
    * the spec builder lists the sanitized names of every task in a DAG once per task, so
      a study of n tasks makes n² calls of the same regular expressions (8M for
      architectures.yaml, about a minute). ``maybe_rename_for_k8s`` is a pure function of
      its string, so it is memoised.
    """
    from kfp.dsl import pipeline_task, utils

    original = pipeline_task.PipelineTask._ensure_container_spec_exists
    rename = utils.maybe_rename_for_k8s
    utils.maybe_rename_for_k8s = functools.lru_cache(maxsize=None)(rename)

    def ensure_container_spec_exists(self) -> None:
        if self.container_spec is None:
            caller = sys._getframe(1).f_code.co_name
            raise ValueError(f"{caller} can only be used on single-step components, not "
                             "pipelines used as components, or special components like "
                             "importers.")

    pipeline_task.PipelineTask._ensure_container_spec_exists = ensure_container_spec_exists
    try:
        yield
    finally:
        pipeline_task.PipelineTask._ensure_container_spec_exists = original
        utils.maybe_rename_for_k8s = rename


def collect_tree(evaluations: list[tuple[str, dsl.PipelineTask]],
                 place: Callable) -> tuple[Any, str]:
    """Merge every evaluation's output folder through collect tasks of at most
    ``FANIN`` inputs each, level by level, down to one folder; return it and its key
    (each collect task's cache key is made of its parts' keys)."""
    parts = [(key, task.outputs["predictions"]) for key, task in evaluations]
    level = 0
    while level == 0 or len(parts) > 1:
        level += 1
        merged = []
        for start in range(0, len(parts), FANIN):
            group = parts[start:start + FANIN]
            task = components.collect(**{f"part_{i}": output
                                         for i, (_, output) in enumerate(group)})
            resources.collect_task(task)
            key = stage_key("collect", [k for k, _ in group])
            place(task, f"collect results {level}.{start // FANIN + 1}", key)
            merged.append((key, task.outputs["collected"]))
        parts = merged
    (key, output), = parts
    return output, key


def build_pipeline(config: StudyConfig, data_root: str = resources.PVC_MOUNT,
                   sizes: Optional[dict[str, str]] = None, data_version: str = "",
                   model_versions: Optional[dict[str, str]] = None,
                   run_dir: str = "", retries: bool = True,
                   checkpoint_root: str = "", data_rev: str = "",
                   pushgateway: str = "") -> Callable:
    """A ``@dsl.pipeline`` function for ``config``. Its parameters, shown with every run:
    ``data_root``, the folder a relative ``data.out`` is taken from (the PVC mount on a
    cluster); ``data_version``, the data the pipeline was compiled for; ``data_rev``, a git
    revision whose recorded data version the first task pulls (empty: use the folder as it
    is); ``run_dir``, where
    the results are published (default ``<data_root>/runs/<study name>``);
    ``checkpoint_root``, where training stages keep their resumable state (default: the
    checkpoint volume's mount, ``/mnt/xstilts-checkpoints``).

    With a ``data_version``, every stage's cache key is its content-addressed stage key
    (data, code and model versions, config): a rerun reuses exactly the finished stages
    that would compute the same thing, and the gate refuses any other data.

    ``pushgateway``: the address every task pushes its metrics to (empty: tasks use
    whatever ``XSTILTS_PUSHGATEWAY`` their environment holds).

    ``retries=False`` drops the retry policies (they guard cluster tasks against
    preemption; on one machine a failure would only repeat, after minutes of backoff)."""
    stages = study_stages(config, data_version, model_versions)
    sizes = {a: (sizes or {}).get(a) or architecture_size(a, config)
             for a in config.architectures}
    config_json = config.model_dump_json()
    code = code_version()
    tasks = ",".join(config.data_tasks())
    image = components.image()
    default_run_dir = run_dir or f"{data_root}/runs/{config.name}"
    default_checkpoints = checkpoint_root or resources.CHECKPOINT_MOUNT

    def place(task: dsl.PipelineTask, label: str, key: str = "") -> dsl.PipelineTask:
        task.set_display_name(label)
        if image != components.IMAGE:
            task.set_container_image(image)
        if data_version and key:
            task.set_caching_options(True, cache_key=key)
        if not retries:
            task.set_retry(num_retries=0)
        if pushgateway:
            task.set_env_variable(GATEWAY_ENV, pushgateway)
        return task

    def study(data_root: str = data_root, data_version: str = data_version,
              data_rev: str = data_rev, run_dir: str = default_run_dir,
              checkpoint_root: str = default_checkpoints):
        exit_op = components.record_outcome(study=config.name, run_dir=run_dir,
                                            data_version=data_version)
        place(resources.exit_task(exit_op), "record outcome")
        with dsl.ExitHandler(exit_op, name="study"):
            prepared = components.prepare_data(config_json=config_json, data_root=data_root,
                                                data_version=data_version, data_rev=data_rev)
            place(resources.gate_task(prepared), "prepare data")
            metrics_dir = f"{run_dir}/{METRICS_DIR}"
            checked = components.validate_data(config_json=config_json,
                                               data=prepared.outputs["data"],
                                               metrics_dir=metrics_dir)
            place(resources.validation_task(checked), "validate data",
                  stage_key("validate", data_version, code, tasks))
            gate = components.data_gate(config_json=config_json, verdict=checked.outputs["Output"],
                                        data=prepared.outputs["data"])
            place(resources.gate_task(gate), "data gate")
            data = gate.outputs["ready"]
            models: dict[str, dsl.PipelineTask] = {}
            evaluations: list[tuple[str, dsl.PipelineTask]] = []
            for stage in stages:
                cell = {"config_json": config_json, "architecture": stage.architecture,
                        "intermediate": stage.intermediate, "seed": stage.seed}
                init = {}
                if stage.needs:
                    (need,) = stage.needs
                    init = {"model": models[need].outputs["model"]}
                resume = f"{checkpoint_root}/{stage.key}"
                cell["metrics_dir"] = metrics_dir
                if stage.kind == "intermediate":
                    task = components.train_intermediate(**cell, data=data, resume_dir=resume)
                    models[stage.key] = task
                elif stage.kind == "target":
                    task = components.train_target(
                        **cell, target=stage.target, data=data, resume_dir=resume,
                        **({"init": init["model"]} if init else {}))
                    models[stage.key] = task
                elif trains_target(get_task(stage.target or "")):
                    task = components.evaluation_component(stage.target)(
                        **cell, target=stage.target, data=data, model=init["model"])
                    evaluations.append((stage.key, task))
                else:
                    task = components.evaluate_retrieval(
                        **cell, target=stage.target, data=data,
                        **({"encoder": init["model"]} if init else {}))
                    evaluations.append((stage.key, task))
                resources.gpu_task(task, sizes[stage.architecture],
                                   config.resources.get(stage.architecture),
                                   training=stage.kind != "evaluate")
                place(task, stage.label, stage.key)
            collected, key = collect_tree(evaluations, place)
            final = components.report(config_json=config_json, code_version=code,
                                      stages=len(stages), collected=collected, data=data,
                                      metrics_dir=metrics_dir)
            resources.report_task(final)
            place(final, "report", stage_key("report", config_json, key))
            shown = components.publish(run_dir=run_dir, results=final.outputs["results"])
            place(resources.publish_task(shown), "publish")

    with _fast_kfp():  # @dsl.pipeline runs the function to build the graph
        return dsl.pipeline(name=pipeline_name(config),
                            description=f"xstilts study {config.name}: {len(stages)} "
                                        "stages")(study)


def compile_study(config: StudyConfig, out_path: Path | str,
                  data_root: str = resources.PVC_MOUNT, data_version: str = "",
                  model_versions: Optional[dict[str, str]] = None, data_rev: str = "") -> dict:
    """Compile the study's pipeline to ``out_path`` (YAML); returns stage counts and timing."""
    started = time.perf_counter()
    pipeline = build_pipeline(config, data_root=data_root, data_version=data_version,
                              model_versions=model_versions, data_rev=data_rev,
                              pushgateway=config.monitoring.pushgateway or
                              resources.PUSHGATEWAY_URL)
    built = time.perf_counter()
    out_path = Path(out_path)
    with atomic_path(out_path) as staged, _fast_kfp():  # no half-written spec on failure
        compiler.Compiler().compile(pipeline, str(staged.with_suffix(".yaml")))
        staged.with_suffix(".yaml").rename(staged)
    stages = study_stages(config)
    return {"path": str(out_path), "stages": len(stages),
            "by_kind": {k: sum(s.kind == k for s in stages)
                        for k in ("intermediate", "target", "evaluate")},
            "data_version": data_version or None, "data_rev": data_rev or None,
            "build_seconds": round(built - started, 3),
            "compile_seconds": round(time.perf_counter() - built, 3)}
