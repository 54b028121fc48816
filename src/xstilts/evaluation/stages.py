"""The evaluation stage: zero-shot evaluation of one target in every language.

Trained targets are predicted with their fine-tuned model. Bitext retrieval targets (BUCC,
Tatoeba) have no target training: the intermediate encoder (or the pretrained one, or the
SQuAD-tuned one when the study asks) embeds sentences with the mean of a middle layer's
hidden states (XTREME convention), and BUCC mines with a ratio margin whose threshold is tuned
on the validation ("sample") split and applied to the test ("training") split.

Outputs: ``predictions/`` and ``labels/`` in the leaderboard layout, and ``scores.json``
(one row per language and metric, scored by the leaderboard scorer's own code).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xstilts.atomic import write_text
from xstilts.evaluation.dual_encoder import dual_encoder_predictions
from xstilts.evaluation.embeddings import embed_texts
from xstilts.evaluation.gold import GOLD
from xstilts.evaluation.leaderboard import score_language, write_task_file
from xstilts.evaluation.predict import predict
from xstilts.evaluation.retrieval import (
    apply_threshold,
    mine_candidates,
    tatoeba_predictions,
    tune_threshold,
)
from xstilts.models.checkpoint import load_checkpoint
from xstilts.models.device import device
from xstilts.models.encoder import Encoder, load_backbone
from xstilts.models.registry import Architecture
from xstilts.study import Budget
from xstilts.tasks.catalogue import Task
from xstilts.training.data import DataFolder, Rows
from xstilts.training.dual_encoder import RETRIEVAL_TYPES
from xstilts.training.recipes import recipe_for

def evaluate_target(arch: Architecture, init: Path | None, task: Task, data_dir: Path,
                    out: Path, preset: str, budget: Budget,
                    progress: Callable[[int, int], None] | None = None) -> None:
    """Evaluate ``task`` in all its languages; ``init`` is the stage folder of the model."""
    data = DataFolder(data_dir)
    recipe = recipe_for(preset, task)
    predictions_dir, labels_dir = out / "predictions", out / "labels"
    if task.type == "bitext_retrieval":
        predictions = _retrieval(arch, init, task, data, recipe, budget)
    elif task.type in RETRIEVAL_TYPES:
        predictions = dual_encoder_predictions(arch, init, task, data, recipe, budget)
    else:
        predictions = _trained(init, task, data, recipe, budget)
    rows = []
    for done, (language, (items, gold)) in enumerate(predictions.items(), start=1):
        if progress is not None:
            progress(done, len(predictions))
        write_task_file(predictions_dir, task.name, language, items, "predictions")
        write_task_file(labels_dir, task.name, language, gold, "labels")
        scores = score_language(task.name, language, predictions_dir, labels_dir)
        rows.extend({"language": language, "metric": m, "value": v} for m, v in scores.items())
    write_text(out / "scores.json", json.dumps(rows, indent=1) + "\n")


def _test_rows(data: DataFolder, task: Task, language: str, budget: Budget) -> Rows:
    limit = budget.max_eval_examples
    return Rows(data.rows(task.name, language, "test", limit),
                {"unit": data.fingerprint(task.name, language, "test"), "limit": limit})


def _trained(init: Path | None, task: Task, data: DataFolder, recipe: Any, budget: Budget
             ) -> dict[str, tuple[Any, Any]]:
    if init is None:
        raise ValueError(f"{task.name} needs a trained model")
    model, tokenizer = load_checkpoint(init / "model")
    model.to(device())
    head = next(iter(model.head_specs))  # a target model has one head
    spec = model.head_specs[head]
    results = {}
    for language in task.all_languages():
        rows = _test_rows(data, task, language, budget)
        items = predict(model, head, task, spec, tokenizer, rows, recipe)
        results[language] = (items, _gold(task, rows.columns))
    return results


def _gold(task: Task, rows: dict[str, list]) -> Any:
    import pyarrow as pa

    return GOLD[task.name](pa.table(rows))


# --------------------------------------------------------------------------- retrieval

def _encoder(arch: Architecture, init: Path | None) -> tuple[Encoder, Any]:
    if init is None:
        backbone, tokenizer = load_backbone(arch.model_id, arch.family)
        return Encoder(backbone, arch.family).to(device()), tokenizer
    model, tokenizer = load_checkpoint(init / "model")
    return model.encoder.to(device()), tokenizer


def _sides(rows: dict[str, list]) -> tuple[list[int], list[int]]:
    source = [i for i, s in enumerate(rows["side"]) if s == "source"]
    target = [i for i, s in enumerate(rows["side"]) if s == "target"]
    return source, target


def _retrieval(arch: Architecture, init: Path | None, task: Task, data: DataFolder,
               recipe: Any, budget: Budget) -> dict[str, tuple[Any, Any]]:
    encoder, tokenizer = _encoder(arch, init)
    layer = min(arch.retrieval_layer, arch.num_layers)

    def vectors(rows: dict[str, list], index: list[int]) -> np.ndarray:
        return embed_texts(encoder, tokenizer, [rows["text"][i] for i in index], None,
                           recipe.max_length, recipe.eval_batch_size, layer)

    results = {}
    for language in task.all_languages():
        rows = data.rows(task.name, language, "test")
        source, target = _sides(rows)
        if task.name == "tatoeba":
            english, other = vectors(rows, target), vectors(rows, source)
            results[language] = (tatoeba_predictions(english, other), _gold(task, rows))
            continue
        dev = data.rows(task.name, language, "validation")
        dev_source, dev_target = _sides(dev)
        dev_candidates = mine_candidates(vectors(dev, dev_source), vectors(dev, dev_target),
                                         [dev["id"][i] for i in dev_source],
                                         [dev["id"][i] for i in dev_target])
        gold_dev = {(dev["id"][i], dev["gold_id"][i]) for i in dev_source
                    if dev["gold_id"][i] is not None}
        threshold = tune_threshold(dev_candidates, gold_dev)
        candidates = mine_candidates(vectors(rows, source), vectors(rows, target),
                                     [rows["id"][i] for i in source],
                                     [rows["id"][i] for i in target])
        results[language] = (apply_threshold(candidates, threshold), _gold(task, rows))
    return results


def confusion_matrices(out: Path, task: Task) -> dict[str, list[list[int]]]:
    """Per-language confusion matrices of a label classification target (rows: gold label,
    columns: predicted label, both in ``task.labels`` order), read back from the label and
    prediction files an evaluation wrote to ``out``. Predictions outside the label set are
    not counted (the accuracy already counts them wrong)."""
    index = {label: i for i, label in enumerate(task.labels)}
    matrices = {}
    for language in task.all_languages():
        matrix = [[0] * len(index) for _ in index]
        gold_files = sorted((out / "labels" / task.name).glob(f"test-{language}.*"))
        for gold_file in gold_files:
            pred_file = out / "predictions" / task.name / gold_file.name
            gold = gold_file.read_text(encoding="utf-8").splitlines()
            pred = pred_file.read_text(encoding="utf-8").splitlines()
            for g, p in zip(gold, pred):
                if g in index and p in index:
                    matrix[index[g]][index[p]] += 1
        if gold_files:
            matrices[language] = matrix
    return matrices
