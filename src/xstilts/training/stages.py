"""The two training stages of the study, as plain functions with path inputs and outputs.

train_intermediate: pretrained model → English intermediate task(s) → checkpoint
                    (encoder + one head per task) and training log.
train_target:       pretrained model (baseline) or intermediate checkpoint (encoder
                    transferred, heads new) → English target training data → model.

Model selection uses English dev data only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xstilts.atomic import write_text
from xstilts.evaluation.predict import dev_score, predict
from xstilts.models.checkpoint import load_for_transfer, save_checkpoint
from xstilts.models.device import device
from xstilts.models.registry import Architecture
from xstilts.study import Budget, Sampling
from xstilts.tasks.catalogue import Task
from xstilts.training.data import (
    DataFolder,
    Rows,
    encode_cached,
    head_spec,
    train_and_dev,
)
from xstilts.training.distributed import is_main
from xstilts.training.loop import (
    TaskData,
    close_metrics,
    reporter,
    stage_metrics,
    total_steps,
    train_loop,
)
from xstilts.training.recipes import recipe_for
from xstilts.training.sampler import TaskSampler

Progress = Callable[[int, int], None]  # (steps done, steps in total)

TRAINING_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "labels",
                   "start_positions", "end_positions")


def _features(task: Task, spec: Any, tokenizer: Any, rows: Rows, recipe: Any) -> TaskData:
    features = encode_cached(task, spec, tokenizer, rows, recipe)
    if task.type == "span_qa":
        features = features.training_inputs()
    return TaskData(head=task.name,
                    features={k: v for k, v in features.items() if k in TRAINING_INPUTS})


def _validator(model: Any, tokenizer: Any, heads: list[tuple[Task, Any, Rows]], recipe: Any):
    """Mean English-dev score over the trained tasks (jiant's equal-weight aggregate)."""
    def validate() -> float:
        scores = [dev_score(task, predict(model, task.name, task, spec, tokenizer, rows, recipe),
                            rows.columns) for task, spec, rows in heads]
        return sum(scores) / len(scores)
    return validate


def train_intermediate(arch: Architecture, tasks: list[Task], data_dir: Path, out: Path,
                       preset: str, sampling: Sampling, budget: Budget, seed: int,
                       progress: Progress | None = None, resume_dir: Path | None = None,
                       monitor: dict | None = None) -> None:
    """Train one shared encoder with one head per intermediate task. ``resume_dir`` keeps
    the loop's state so that a restarted stage continues (see ``train_loop``); ``monitor``
    (``xstilts.monitoring.metrics.training_monitor``) where its progress metrics go."""
    data = DataFolder(data_dir)
    specs = {task.name: head_spec(task, data) for task in tasks}
    model, tokenizer = load_for_transfer(arch.model_id, arch.family, specs, seed)
    model.to(device())
    # One recipe for the mixture: the first task's (lengths per task type still apply).
    recipes = {task.name: recipe_for(preset, task) for task in tasks}
    recipe = recipes[tasks[0].name]
    train, heads = {}, []
    for task in tasks:
        rows, dev = train_and_dev(data, task.train_corpora[0], task.dev_corpus or task.name,
                                  budget.max_train_examples, recipes[task.name].eval_examples,
                                  seed)
        train[task.name] = _features(task, specs[task.name], tokenizer, rows,
                                     recipes[task.name])
        heads.append((task, specs[task.name], dev))
    sizes = {name: d.size for name, d in train.items()}
    sampler = TaskSampler(sizes, sampling.method, sampling.temperature, sampling.cap, seed) \
        if len(tasks) > 1 else None
    steps = total_steps(list(sizes.values()), recipe, budget.max_steps)
    metrics = stage_metrics(monitor)
    result = train_loop(model, train, recipe, steps, _validator(model, tokenizer, heads, recipe),
                        seed, sampler, on_step=reporter(progress, metrics, 0, steps),
                        resume_dir=resume_dir)
    close_metrics(metrics)
    if not is_main():
        return  # data-parallel: the first process writes
    save_checkpoint(model, tokenizer, out / "model",
                    {"architecture": arch.name, "tasks": list(specs), "seed": seed})
    _write_log(out, {"kind": "intermediate", "tasks": list(specs), "sizes": sizes,
                     "recipe": recipe.model_dump(), "result": result.__dict__})


def train_target(arch: Architecture, init: Path | None, task: Task, data_dir: Path,
                 out: Path, preset: str, budget: Budget, seed: int,
                 progress: Progress | None = None, resume_dir: Path | None = None,
                 monitor: dict | None = None) -> None:
    """Train a target task from the pretrained model or an intermediate checkpoint."""
    data = DataFolder(data_dir)
    spec = head_spec(task, data)
    source = str(init / "model") if init is not None else arch.model_id
    model, tokenizer = load_for_transfer(source, arch.family, {task.name: spec}, seed)
    model.to(device())
    recipe = recipe_for(preset, task)
    results, done = [], 0
    metrics = stage_metrics(monitor)
    # Several training corpora are trained in order (XCOPA: Social IQa, then COPA); the
    # last corpus's English dev set selects the model of each phase.
    for corpus in task.train_corpora:
        rows, dev = train_and_dev(data, corpus, task.dev_corpus or corpus,
                                  budget.max_train_examples, recipe.eval_examples, seed)
        validate = _validator(model, tokenizer, [(task, spec, dev)], recipe)
        train = {task.name: _features(task, spec, tokenizer, rows, recipe)}
        steps = total_steps([train[task.name].size], recipe, budget.max_steps)
        result = train_loop(model, train, recipe, steps, validate, seed,
                            on_step=reporter(progress, metrics, done, done + steps),
                            resume_dir=resume_dir / corpus if resume_dir else None)
        done += steps
        results.append({"corpus": corpus, **result.__dict__})
    close_metrics(metrics)
    if not is_main():
        return  # data-parallel: the first process writes
    save_checkpoint(model, tokenizer, out / "model",
                    {"architecture": arch.name, "task": task.name, "seed": seed,
                     "initialised_from": "intermediate" if init else "pretrained"})
    _write_log(out, {"kind": "target", "task": task.name, "recipe": recipe.model_dump(),
                     "results": results})


def train_any_target(arch: Architecture, init: Path | None, task: Task, data_dir: Path,
                     out: Path, preset: str, budget: Budget, seed: int,
                     progress: Progress | None = None, resume_dir: Path | None = None,
                     monitor: dict | None = None) -> None:
    """Target training for any trainable target: Mewsli-X and LAReQA train a dual encoder,
    every other target its task head (the one dispatch the runner and Kubeflow share)."""
    from xstilts.training.dual_encoder import RETRIEVAL_TYPES, train_dual_encoder

    if task.type in RETRIEVAL_TYPES:
        train_dual_encoder(arch, init, task, data_dir, out, preset, budget, seed, resume_dir,
                           progress, monitor)
    else:
        train_target(arch, init, task, data_dir, out, preset, budget, seed, progress,
                     resume_dir, monitor)


def _write_log(out: Path, log: dict) -> None:
    write_text(out / "training_log.json", json.dumps(log, indent=2, default=str) + "\n")
