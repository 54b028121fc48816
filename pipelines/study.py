"""The study pipeline, generated from a study config.

One KFP task per stage of ``xstilts.study.plan`` (so intermediate encoders are trained once
per (architecture, intermediate, seed) and target models are deduplicated exactly as the
local runner does), wired along each stage's ``needs``:

    validate_data (gate, not cached)
      → train_intermediate  (one per architecture × intermediate ≠ none × seed)
      → train_target        (from the intermediate encoder, or the pretrained model)
      → evaluate            (trained targets) / evaluate_retrieval (BUCC, Tatoeba)
      → report              (fan-in of every evaluation's score rows)
    all inside a dsl.ExitHandler whose exit task records the run outcome.

Stage keys are only used here to identify stages: the real data version is not known at
compile time, so ``plan`` gets a placeholder (the keys group identically).
"""

# No "from __future__ import annotations": KFP reads the pipeline function's real types.

import contextlib
import re
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from kfp import compiler, dsl

import components
from pipelines import resources
from xstilts.atomic import atomic_path
from xstilts.errors import UserError
from xstilts.models.registry import REGISTRY, TINY_NAMES, resolve_architecture
from xstilts.study import Stage, StudyConfig, code_version, plan, trains_target
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


def study_stages(config: StudyConfig) -> list[Stage]:
    """The study plan as the pipeline sees it (placeholder data and model versions)."""
    return plan(config, COMPILE_DATA_VERSION, code_version(),
                {a: a for a in config.architectures})


@contextlib.contextmanager
def _fast_task_checks():
    """kfp 2.17.3's ``PipelineTask._ensure_container_spec_exists`` (called by every
    resource setter) takes ``inspect.stack()`` just to name its caller in an error message,
    reading the source of every frame: ~18 ms per call, minutes for a study of thousands of
    tasks. While a pipeline is built, swap in the same check naming the caller from
    ``sys._getframe``; the original is restored afterwards."""
    from kfp.dsl import pipeline_task

    original = pipeline_task.PipelineTask._ensure_container_spec_exists

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


def build_pipeline(config: StudyConfig, data_root: str = resources.PVC_MOUNT,
                   sizes: Optional[dict[str, str]] = None) -> Callable:
    """A ``@dsl.pipeline`` function for ``config``; its one parameter, ``data_root``, is the
    folder a relative ``data.out`` is taken from (the PVC mount on a cluster)."""
    stages = study_stages(config)
    sizes = {a: (sizes or {}).get(a) or architecture_size(a, config)
             for a in config.architectures}
    config_json = config.model_dump_json()
    image = components.image()

    def place(task: dsl.PipelineTask, label: str) -> dsl.PipelineTask:
        task.set_display_name(label)
        if image != components.IMAGE:
            task.set_container_image(image)
        return task

    def study(data_root: str = data_root):
        exit_op = place(components.record_outcome(study=config.name, data_root=data_root),
                        "record outcome")
        resources.exit_task(exit_op)
        with dsl.ExitHandler(exit_op, name="study"):
            gate = place(components.validate_data(config_json=config_json,
                                                  data_root=data_root), "validate data")
            resources.gate_task(gate)
            data = gate.outputs["data"]
            models: dict[str, dsl.PipelineTask] = {}
            scores, dev = [], []
            for stage in stages:
                cell = {"config_json": config_json, "architecture": stage.architecture,
                        "intermediate": stage.intermediate, "seed": stage.seed}
                init = {}
                if stage.needs:
                    (need,) = stage.needs
                    init = {"model": models[need].outputs["model"]}
                if stage.kind == "intermediate":
                    task = components.train_intermediate(**cell, data=data)
                    models[stage.key] = task
                elif stage.kind == "target":
                    task = components.train_target(
                        **cell, target=stage.target, data=data,
                        **({"init": init["model"]} if init else {}))
                    models[stage.key] = task
                    dev.append(task.outputs["Output"])
                elif trains_target(get_task(stage.target or "")):
                    task = components.evaluate(**cell, target=stage.target, data=data,
                                               model=init["model"])
                    scores.append(task.outputs["Output"])
                else:
                    task = components.evaluate_retrieval(
                        **cell, target=stage.target, data=data,
                        **({"encoder": init["model"]} if init else {}))
                    scores.append(task.outputs["Output"])
                place(task, stage.label)
                resources.gpu_task(task, sizes[stage.architecture])
            final = place(components.report(config_json=config_json, scores=scores, dev=dev,
                                            data=data), "report")
            resources.report_task(final)

    with _fast_task_checks():  # @dsl.pipeline runs the function to build the graph
        return dsl.pipeline(name=pipeline_name(config),
                            description=f"xstilts study {config.name}: {len(stages)} "
                                        "stages")(study)


def compile_study(config: StudyConfig, out_path: Path | str,
                  data_root: str = resources.PVC_MOUNT) -> dict:
    """Compile the study's pipeline to ``out_path`` (YAML); returns stage counts and timing."""
    started = time.perf_counter()
    pipeline = build_pipeline(config, data_root=data_root)
    built = time.perf_counter()
    out_path = Path(out_path)
    with atomic_path(out_path) as staged:  # no half-written spec if compiling fails
        compiler.Compiler().compile(pipeline, str(staged.with_suffix(".yaml")))
        staged.with_suffix(".yaml").rename(staged)
    stages = study_stages(config)
    return {"path": str(out_path), "stages": len(stages),
            "by_kind": {k: sum(s.kind == k for s in stages)
                        for k in ("intermediate", "target", "evaluate")},
            "build_seconds": round(built - started, 3),
            "compile_seconds": round(time.perf_counter() - built, 3)}
