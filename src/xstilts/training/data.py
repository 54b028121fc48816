"""From canonical tables to model inputs: the head a task needs, its training features, and
its English dev examples."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from xstilts.data.fetch import DataFolder
from xstilts.errors import UserError
from xstilts.models.heads import HeadSpec
from xstilts.tasks.catalogue import Task
from xstilts.training.features import (
    FeatureCache,
    encode_choices,
    encode_pairs,
    encode_qa,
    encode_tagging,
)
from xstilts.training.recipes import Recipe

HEAD_KINDS = {"pair_classification": "classification", "tagging": "tagging",
              "span_qa": "span", "multiple_choice": "multiple_choice"}


@dataclass
class Rows:
    """Rows of a table, and what identifies them for the feature cache."""

    columns: dict[str, list]
    source: dict[str, Any]


def train_and_dev(data: DataFolder, corpus: str, dev_corpus: str, train_limit: int | None,
                  dev_limit: int, seed: int) -> tuple[Rows, Rows]:
    """English training rows and English dev rows for model selection. Without an English
    validation split (TyDiQA-GoldP), a seeded held-out part of the training split is the
    dev set and is not trained on."""
    train_unit = data.fingerprint(corpus, "en", "train")
    if data.has(dev_corpus, "en", "validation"):
        train_seed = seed if train_limit else None  # an uncapped table is the same for all
        return (Rows(data.rows(corpus, "en", "train", train_limit, seed),
                     {"unit": train_unit, "limit": train_limit, "seed": train_seed}),
                Rows(data.rows(dev_corpus, "en", "validation", dev_limit, seed),
                     {"unit": data.fingerprint(dev_corpus, "en", "validation"),
                      "limit": dev_limit, "seed": seed}))
    table = data.table(corpus, "en", "train")
    order = np.random.default_rng(seed).permutation(table.num_rows)
    held_out = min(dev_limit, max(1, table.num_rows // 10))
    dev, train = np.sort(order[:held_out]), np.sort(order[held_out:])
    if train_limit is not None:
        train = train[:train_limit]
    source = {"unit": train_unit, "limit": train_limit, "seed": seed, "held_out": held_out}
    return (Rows(table.take(pa.array(train)).to_pydict(), {**source, "part": "train"}),
            Rows(table.take(pa.array(dev)).to_pydict(), {**source, "part": "dev"}))


def cache_dir() -> Path:
    """Where encoded features are cached: $XSTILTS_CACHE/features, by default under
    ~/.cache/xstilts (shared by runs: features depend on the tokenizer, rows and lengths)."""
    root = os.environ.get("XSTILTS_CACHE") or Path.home() / ".cache" / "xstilts"
    return Path(root) / "features"


def encode_cached(task: Task, spec: HeadSpec, tokenizer: Any, rows: Rows, recipe: Recipe,
                  with_labels: bool = True) -> Any:
    """``encode`` through the on-disk feature cache."""
    key = {**rows.source, "type": task.type, "labels": list(spec.labels),
           "with_labels": with_labels, "max_length": recipe.max_length,
           "doc_stride": recipe.doc_stride, "max_query_length": recipe.max_query_length}
    build = partial(encode, task, spec, tokenizer, rows.columns, recipe, with_labels)
    return FeatureCache(cache_dir(), tokenizer).get_or_build(key, build)


def head_spec(task: Task, data: DataFolder) -> HeadSpec:
    """The head a task trains: its kind and label set (CCG reads its tags from the data)."""
    if task.type not in HEAD_KINDS:
        raise UserError(f"task '{task.name}' ({task.type}) has no trainable head")
    labels = task.labels
    if labels is None and task.type == "tagging":
        tags = data.table(task.train_corpora[0], "en", "train").column("tags").to_pylist()
        labels = tuple(sorted({t for seq in tags for t in seq}))
    labels = tuple(labels or ())
    return HeadSpec(kind=HEAD_KINDS[task.type], num_labels=len(labels), labels=labels)


def encode(task: Task, spec: HeadSpec, tokenizer: Any, rows: dict[str, list], recipe: Recipe,
           with_labels: bool = True) -> Any:
    """Model inputs for rows of a canonical table (QA: a QAFeatures object)."""
    if task.type == "pair_classification":
        index = {label: i for i, label in enumerate(spec.labels)}
        labels = [index[x] for x in rows["label"]] if with_labels else None
        return encode_pairs(tokenizer, rows["text_a"], rows["text_b"], recipe.max_length,
                            labels=labels)
    if task.type == "tagging":
        index = {label: i for i, label in enumerate(spec.labels)}
        return encode_tagging(tokenizer, rows["tokens"], rows["tags"] if with_labels else None,
                              index, recipe.max_length)
    if task.type == "span_qa":
        return encode_qa(tokenizer, rows["question"], rows["context"], rows["id"],
                         recipe.max_length, recipe.doc_stride, recipe.max_query_length,
                         answers=rows["answers"] if with_labels else None)
    if task.type == "multiple_choice":
        return encode_choices(tokenizer, rows["context"], rows["question"], rows["choices"],
                              recipe.max_length, labels=rows["label"] if with_labels else None)
    raise UserError(f"task '{task.name}' ({task.type}) cannot be encoded for training")
