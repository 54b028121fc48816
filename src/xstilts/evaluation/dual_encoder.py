"""Zero-shot evaluation of a dual encoder on Mewsli-X and LAReQA.

Every candidate of the task's pool (``<task>/all/candidates``: Mewsli-X entity descriptions,
LAReQA answer sentences with their contexts, in every language) is embedded once; each
language's test queries are embedded and the 20 nearest candidates by cosine are their
prediction (``retrieval.ranked_ids``), as the XTREME-R baselines rank. The gold is
``{query id: gold ids}``. The result per language, ``(predictions, gold)``, is what
``write_task_file`` writes for the leaderboard scorer (mAP@20; MRR@20 for Mewsli-X).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from xstilts.errors import UserError
from xstilts.evaluation.embeddings import embed_texts
from xstilts.evaluation.gold import GOLD
from xstilts.evaluation.leaderboard import RETRIEVAL_K
from xstilts.evaluation.retrieval import ranked_ids
from xstilts.models.checkpoint import load_checkpoint
from xstilts.models.device import device
from xstilts.models.encoder import Encoder
from xstilts.models.registry import Architecture
from xstilts.study import Budget
from xstilts.tasks.catalogue import Task
from xstilts.data.fetch import DataFolder
from xstilts.training.dual_encoder import (
    RETRIEVAL_TYPES,
    candidate_texts,
    query_max_length,
    query_texts,
)
from xstilts.training.recipes import Recipe


def load_dual_encoder(arch: Architecture, init: Path | None) -> tuple[Encoder, Any]:
    """The trained encoder of a dual-encoder stage folder (``init/model``), or, without one,
    the pretrained encoder (an untrained baseline)."""
    if init is None:
        encoder, tokenizer = Encoder.load(arch.model_id, arch.family)
        return encoder.to(device()), tokenizer
    model, tokenizer = load_checkpoint(init / "model")
    if model.family != arch.family:
        raise UserError(f"{init / 'model'} holds a {model.family} encoder, not {arch.family}")
    return model.encoder.to(device()), tokenizer


def dual_encoder_predictions(arch: Architecture, init: Path | None, task: Task,
                             data: DataFolder, recipe: Recipe, budget: Budget
                             ) -> dict[str, tuple[dict[str, list[str]], dict[str, list[str]]]]:
    """For each language of ``task``: ({query id: top-20 candidate ids}, {query id: gold
    ids}). ``budget.max_eval_examples`` caps the queries per language (a seeded subset, as
    the other targets' evaluation takes), never the candidate pool."""
    if task.type not in RETRIEVAL_TYPES:
        raise UserError(f"task '{task.name}' ({task.type}) is not a dual-encoder retrieval task")
    encoder, tokenizer = load_dual_encoder(arch, init)
    pool = data.rows(task.name, "all", "candidates")
    texts, pairs = candidate_texts(task, pool)
    candidates = embed_texts(encoder, tokenizer, texts, pairs, recipe.max_length,
                             recipe.eval_batch_size)
    results = {}
    for language in task.all_languages():
        rows = data.rows(task.name, language, "test", budget.max_eval_examples)
        queries = embed_texts(encoder, tokenizer, query_texts(task, rows), None,
                              query_max_length(task, recipe), recipe.eval_batch_size)
        ranked = ranked_ids(queries, candidates, pool["id"], k=RETRIEVAL_K)
        predictions = dict(zip(rows["id"], ranked))
        results[language] = (predictions, GOLD[task.name](pa.table(rows)))
    return results
