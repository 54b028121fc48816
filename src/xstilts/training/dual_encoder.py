"""Dual-encoder training for the XTREME-R retrieval targets Mewsli-X and LAReQA.

The XTREME-R baselines (google-research/xtreme ``run_retrieval_el.py`` and
``run_retrieval_qa.py``) train one encoder shared by queries and candidates: each side is
embedded, the embeddings are L2-normalised, and an in-batch softmax (cross-entropy over the
batch's candidates of the scaled cosine similarities) pulls every query towards its own
candidate. Here:

* **Embedding**: the L2-normalised mean of the last hidden states over non-padding tokens,
  for every family (the encoders are loaded without a pooler; XTREME's BERT baseline uses the
  normalised pooler output instead).
* **Loss**: cross-entropy over ``SIMILARITY_SCALE`` × cosine, fixed (XTREME's learnable
  logit scale starts at 100). In-batch duplicates of the positive (the same entity or answer
  sentence drawn twice in one batch) are masked out instead of being counted as negatives.
* **Mewsli-X** trains on English Wikipedia mention-entity pairs (``mewslix/en/train``). The
  query is XTREME's ``preprocess_mention``: the sentence holding the mention, the mention
  marked with braces and prepended, ``"{mention}: left { mention } right"``. The candidate is
  the entity description. Mewsli-X is doubly zero-shot: the training entities are not in the
  evaluation candidate set, so their descriptions come from the table ``TRAIN_ENTITIES``
  (``mewslix/all/train_candidates``, entity_candidates schema, built from the ``entity`` of
  each ``wikipedia_pairs-train.jsonl`` line) when the data folder has it, else from
  ``mewslix/all/candidates``. Model selection: mAP@20 (= MRR@20) of ``mewslix/en/validation``
  mentions against the candidate set (all of it, or its dev queries' gold entities plus a
  seeded sample of ``DEV_POOL_LIMIT`` others when it is larger).
* **LAReQA** trains on SQuAD v1.1: question → the sentence of its context that holds the
  (first) answer, encoded as the pair (sentence, context) as XTREME does; questions whose
  answer crosses a sentence break are skipped. Model selection: mAP@20 on SQuAD v1.1
  validation questions (a seeded subset of ``recipe.eval_examples``) against every sentence
  of their contexts.

The trained model is saved with ``save_checkpoint`` as a multi-task model without heads: its
``encoder/`` folder is an ordinary Hugging Face model and ``load_checkpoint`` returns it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xstilts.atomic import write_text
from xstilts.data.converters import sentence_spans
from xstilts.errors import UserError
from xstilts.evaluation.embeddings import embed_texts
from xstilts.evaluation.leaderboard import RETRIEVAL_K
from xstilts.evaluation.metrics import map_at_k, mrr_at_k
from xstilts.evaluation.retrieval import ranked_ids
from xstilts.models.checkpoint import load_for_transfer, save_checkpoint
from xstilts.models.device import device
from xstilts.models.encoder import Encoder
from xstilts.models.heads import MultiTaskModel, mean_pool
from xstilts.models.registry import Architecture
from xstilts.study import Budget
from xstilts.tasks.catalogue import Task
from xstilts.training.data import DataFolder, train_and_dev
from xstilts.training.distributed import is_main
from xstilts.training.features import encode_pairs
from xstilts.training.loop import (
    StepReport,
    TaskData,
    close_metrics,
    reporter,
    stage_metrics,
    total_steps,
    train_loop,
)
from xstilts.training.recipes import Recipe, recipe_for

HEAD = "retrieval"
"""The name the training loop knows the dual encoder's one objective by."""

SIMILARITY_SCALE = 20.0
"""Cosine similarities are multiplied by this before the in-batch softmax."""

POOLING = "mean"
"""How a sequence becomes its embedding (recorded in the checkpoint's extra)."""

TRAIN_ENTITIES = ("mewslix", "all", "train_candidates")
"""(corpus, language, split) of the descriptions of the Mewsli-X training entities."""

DEV_POOL_LIMIT = 10_000
"""Most candidates an English dev validation ranks against (gold ones always included)."""

RETRIEVAL_TYPES = ("entity_retrieval", "answer_retrieval")

_MARKER_L, _MARKER_R = "{", "}"
_MARKED = re.compile(rf"{re.escape(_MARKER_L)}(.*?){re.escape(_MARKER_R)}")


# --------------------------------------------------------------------------- texts

def _normalise(text: str) -> str:
    """XTREME's light normalisation: no line breaks, double spaces halved, stripped."""
    return " ".join(text.splitlines()).replace("  ", " ").strip()


def _escape_markers(text: str) -> str:
    """Pre-existing "{...}" become "(...)" so that only the mention is marked (as XTREME)."""
    return _MARKED.sub(r"(\1)", text)


def mention_query(context: str, mention: str, start: int, end: int) -> str:
    """XTREME's Mewsli-X query: the mention's sentence with the mention marked in braces, the
    mention prepended: ``"Smith: The verdict came back for { Smith }, who ..."``. A mention
    that crosses a sentence break keeps the whole context."""
    left_edge, right_edge = 0, len(context)
    for s, e in sentence_spans(context):
        if s <= start and end <= e:
            left_edge, right_edge = s, e
            break
    left = _escape_markers(context[left_edge:start])
    right = _escape_markers(context[end:right_edge])
    text = mention or context[start:end]
    return _normalise(f"{text}: {left} {_MARKER_L} {text} {_MARKER_R} {right}")


def query_texts(task: Task, rows: Mapping[str, Sequence]) -> list[str]:
    """The query string of every row of a task's query table (or of SQuAD for LAReQA)."""
    if task.type == "entity_retrieval":
        return [mention_query(c, m, int(s), int(e)) for c, m, s, e in zip(
            rows["context"], rows["mention"], rows["mention_start"], rows["mention_end"])]
    if task.type == "answer_retrieval":
        return [_normalise(q) for q in rows["question"]]
    raise UserError(f"task '{task.name}' ({task.type}) is not a dual-encoder retrieval task")


def candidate_texts(task: Task, rows: Mapping[str, Sequence]
                    ) -> tuple[list[str], list[str] | None]:
    """The candidate side of a candidates table: entity descriptions (Mewsli-X), or
    (answer sentence, its context) pairs (LAReQA)."""
    if task.type == "entity_retrieval":
        return [_normalise(t) for t in rows["text"]], None
    if task.type == "answer_retrieval":
        return [_normalise(t) for t in rows["text"]], [_normalise(c) for c in rows["context"]]
    raise UserError(f"task '{task.name}' ({task.type}) is not a dual-encoder retrieval task")


def query_max_length(task: Task, recipe: Recipe) -> int:
    """Questions are short (LAReQA: the recipe's query length); mentions in context use the
    full length, as XTREME's Mewsli-X baseline does."""
    return recipe.max_query_length if task.type == "answer_retrieval" else recipe.max_length


# --------------------------------------------------------------------------- model

@dataclass
class DualEncoderOutput:
    """In-batch loss and the [queries, candidates] logits (scaled cosine similarities)."""

    loss: Tensor | None
    logits: Tensor


def _trim(input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor | None
          ) -> tuple[Tensor, Tensor, Tensor | None]:
    """Drop the padding columns no row of the batch uses (inputs are right-padded)."""
    if attention_mask.numel() == 0:
        return input_ids, attention_mask, token_type_ids
    width = max(1, int(attention_mask.sum(dim=1).max()))
    return (input_ids[:, :width], attention_mask[:, :width],
            token_type_ids[:, :width] if token_type_ids is not None else None)


class DualEncoder(nn.Module):
    """One encoder for queries and candidates, trained with an in-batch softmax.

    Wraps a ``MultiTaskModel`` (its heads, if any, are unused) so that ``train_loop`` can
    train it: ``forward(head, batch)`` takes ``query_input_ids``, ``query_attention_mask``,
    ``candidate_input_ids``, ``candidate_attention_mask`` (and ``query_token_type_ids`` /
    ``candidate_token_type_ids`` for tokenizers that make them), plus an optional
    ``candidate_key`` [B] (equal keys = the same candidate; they are not one another's
    negatives). ``head`` is accepted for the loop's sake and ignored.
    """

    def __init__(self, model: MultiTaskModel, scale: float = SIMILARITY_SCALE) -> None:
        super().__init__()
        self.model = model
        self.scale = float(scale)

    @property
    def encoder(self) -> Encoder:
        return self.model.encoder

    def embed(self, input_ids: Tensor, attention_mask: Tensor,
              token_type_ids: Tensor | None = None) -> Tensor:
        """L2-normalised mean of the last hidden states: [B, H] float32."""
        input_ids, attention_mask, token_type_ids = _trim(input_ids, attention_mask,
                                                          token_type_ids)
        hidden = self.model.encoder(input_ids, attention_mask, token_type_ids).last_hidden
        return mean_pool(hidden, attention_mask)

    def forward(self, head: str, batch: Mapping[str, Tensor]) -> DualEncoderOutput:
        del head  # one objective
        query = self.embed(batch["query_input_ids"], batch["query_attention_mask"],
                           batch.get("query_token_type_ids"))
        candidate = self.embed(batch["candidate_input_ids"], batch["candidate_attention_mask"],
                               batch.get("candidate_token_type_ids"))
        logits = self.scale * query @ candidate.T
        key = batch.get("candidate_key")
        if key is not None:
            key = key.to(logits.device)
            duplicate = key[:, None] == key[None, :]
            duplicate.fill_diagonal_(False)
            logits = logits.masked_fill(duplicate, float("-inf"))
        labels = torch.arange(logits.shape[0], device=logits.device)
        return DualEncoderOutput(F.cross_entropy(logits, labels), logits)


# --------------------------------------------------------------------------- data

def columns_of(rows: Any) -> dict[str, list]:
    """Column lists of what ``train_and_dev`` returns: a dict of columns, or an object
    holding one in ``.columns`` (``training.data.Rows``)."""
    columns = getattr(rows, "columns", rows)
    if not isinstance(columns, dict):
        raise TypeError(f"expected table columns, got {type(rows).__name__}")
    return columns


@dataclass
class RetrievalSet:
    """Queries, a candidate pool and gold ids: one English dev set for model selection."""

    query_ids: list[str]
    queries: list[str]
    candidate_ids: list[str]
    candidates: list[str]
    candidate_pairs: list[str] | None
    gold: dict[str, list[str]]


def _pair_features(tokenizer: Any, queries: list[str], candidates: list[str],
                   candidate_pairs: list[str] | None, keys: list[int], query_length: int,
                   candidate_length: int) -> dict[str, Tensor]:
    query = encode_pairs(tokenizer, queries, None, query_length)
    candidate = encode_pairs(tokenizer, candidates, candidate_pairs, candidate_length)
    features = {f"query_{k}": v for k, v in query.items()}
    features.update({f"candidate_{k}": v for k, v in candidate.items()})
    features["candidate_key"] = torch.tensor(keys, dtype=torch.long)
    return features


def entity_descriptions(data: DataFolder) -> dict[str, str]:
    """Descriptions of the entities Mewsli-X trains on: ``TRAIN_ENTITIES`` when the data
    folder has it, else the candidate set."""
    key = TRAIN_ENTITIES if data.has(*TRAIN_ENTITIES) else ("mewslix", "all", "candidates")
    rows = data.rows(*key)
    return dict(zip(rows["id"], rows["text"]))


def _mewslix_pairs(task: Task, rows: dict[str, list], descriptions: Mapping[str, str]
                   ) -> tuple[list[str], list[str], None, list[int]]:
    keep = [i for i, gold in enumerate(rows["gold_ids"]) if gold and gold[0] in descriptions]
    if not keep:
        raise UserError(
            "none of the Mewsli-X training mentions links to an entity with a description: "
            f"the data folder needs {'/'.join(TRAIN_ENTITIES)} (the descriptions of the "
            "entities in wikipedia_pairs-train.jsonl, which are not in the candidate set); "
            "fetch the mewslix task again")
    subset = {k: [v[i] for i in keep] for k, v in rows.items()}
    golds = [g[0] for g in subset["gold_ids"]]
    index = {entity: n for n, entity in enumerate(dict.fromkeys(golds))}
    return (query_texts(task, subset), [_normalise(descriptions[g]) for g in golds], None,
            [index[g] for g in golds])


def _answer_sentence(context: str, answer_start: int) -> tuple[int, int] | None:
    for s, e in sentence_spans(context):
        if s <= answer_start < e:
            return s, e
    return None


def _squad_pairs(rows: dict[str, list]
                 ) -> tuple[list[str], list[str], list[str], list[int]]:
    """(question, answer sentence + context) pairs from SQuAD rows, first answer only."""
    queries, sentences, contexts, keys = [], [], [], []
    index: dict[tuple[str, int, int], int] = {}
    for question, context, answers in zip(rows["question"], rows["context"], rows["answers"]):
        if not answers["answer_start"]:
            continue
        span = _answer_sentence(context, int(answers["answer_start"][0]))
        if span is None:
            continue
        queries.append(_normalise(question))
        sentences.append(_normalise(context[span[0]:span[1]]))
        contexts.append(_normalise(context))
        keys.append(index.setdefault((context, *span), len(index)))
    if not queries:
        raise UserError("no SQuAD training question has an answer inside one sentence of its "
                        "context; the LAReQA dual encoder has nothing to train on")
    return queries, sentences, contexts, keys


def _mewslix_dev(task: Task, data: DataFolder, rows: dict[str, list],
                 descriptions: Mapping[str, str], seed: int) -> RetrievalSet:
    pool = data.rows("mewslix", "all", "candidates")
    known = dict(zip(pool["id"], pool["text"]))
    for entity, text in descriptions.items():
        known.setdefault(entity, text)
    keep = [i for i, gold in enumerate(rows["gold_ids"]) if gold and gold[0] in known]
    subset = {k: [v[i] for i in keep] for k, v in rows.items()}
    golds = list(dict.fromkeys(g[0] for g in subset["gold_ids"]))
    gold_set = set(golds)
    others = [c for c in pool["id"] if c not in gold_set]
    room = max(0, DEV_POOL_LIMIT - len(golds))
    if len(others) > room:
        chosen = np.sort(np.random.default_rng(seed).permutation(len(others))[:room])
        others = [others[i] for i in chosen]
    ids = golds + others
    return RetrievalSet(subset["id"], query_texts(task, subset), ids,
                        [_normalise(known[c]) for c in ids], None,
                        {q: [g[0]] for q, g in zip(subset["id"], subset["gold_ids"])})


def _squad_dev(rows: dict[str, list]) -> RetrievalSet:
    """Dev questions against every sentence of their contexts; gold = the sentences that
    hold any of the question's answers."""
    contexts: dict[str, int] = {}
    ids, sentences, pairs = [], [], []
    query_ids, queries, gold = [], [], {}
    for qid, question, context, answers in zip(rows["id"], rows["question"], rows["context"],
                                               rows["answers"]):
        spans = sentence_spans(context)
        if context not in contexts:
            contexts[context] = len(contexts)
            for j, (s, e) in enumerate(spans):
                ids.append(f"c{contexts[context]}-{j}")
                sentences.append(_normalise(context[s:e]))
                pairs.append(_normalise(context))
        golds = sorted({f"c{contexts[context]}-{j}" for start in answers["answer_start"]
                        for j, (s, e) in enumerate(spans) if s <= int(start) < e})
        if golds:
            query_ids.append(qid)
            queries.append(_normalise(question))
            gold[qid] = golds
    return RetrievalSet(query_ids, queries, ids, sentences, pairs, gold)


def training_pairs(task: Task, data: DataFolder, rows: dict[str, list]
                   ) -> tuple[list[str], list[str], list[str] | None, list[int]]:
    """Training pairs from English training rows: (queries, candidates, candidate contexts
    or None, candidate keys; equal keys = the same candidate)."""
    if task.type == "entity_retrieval":
        return _mewslix_pairs(task, rows, entity_descriptions(data))
    if task.type == "answer_retrieval":
        return _squad_pairs(rows)
    raise UserError(f"task '{task.name}' ({task.type}) is not trained as a dual encoder")


def dev_set(task: Task, data: DataFolder, rows: dict[str, list], seed: int) -> RetrievalSet:
    """The English dev retrieval set of model selection, from the dev rows that
    ``train_and_dev`` returns (Mewsli-X mentions, or SQuAD v1.1 questions)."""
    if task.type == "entity_retrieval":
        return _mewslix_dev(task, data, rows, entity_descriptions(data), seed)
    if task.type == "answer_retrieval":
        return _squad_dev(rows)
    raise UserError(f"task '{task.name}' ({task.type}) is not trained as a dual encoder")


def retrieval_score(task: Task, encoder: Encoder, tokenizer: Any, dev: RetrievalSet,
                    recipe: Recipe) -> float:
    """mAP@20 × 100 of the dev set (Mewsli-X: MRR@20, its official "map@20")."""
    if not dev.query_ids:
        return 0.0
    candidates = embed_texts(encoder, tokenizer, dev.candidates, dev.candidate_pairs,
                             recipe.max_length, recipe.eval_batch_size)
    queries = embed_texts(encoder, tokenizer, dev.queries, None, query_max_length(task, recipe),
                          recipe.eval_batch_size)
    ranked = dict(zip(dev.query_ids, ranked_ids(queries, candidates, dev.candidate_ids,
                                                k=RETRIEVAL_K)))
    metric = mrr_at_k if task.type == "entity_retrieval" else map_at_k
    return metric(dev.gold, ranked, k=RETRIEVAL_K) * 100


# --------------------------------------------------------------------------- stage

def train_dual_encoder(arch: Architecture, init: Path | None, task: Task, data_dir: Path,
                       out: Path, preset: str, budget: Budget, seed: int,
                       resume_dir: Path | None = None, progress: Any = None,
                       monitor: dict | None = None) -> None:
    """Train the dual encoder of a retrieval target (Mewsli-X, LAReQA) from the pretrained
    model or an intermediate checkpoint's encoder (``init`` = its stage folder, holding
    ``model/``). Writes ``out/model`` (a checkpoint without heads) and
    ``out/training_log.json``."""
    if task.type not in RETRIEVAL_TYPES:
        raise UserError(f"task '{task.name}' ({task.type}) is not trained as a dual encoder")
    data = DataFolder(data_dir)
    source = str(init / "model") if init is not None else arch.model_id
    model, tokenizer = load_for_transfer(source, arch.family, {}, seed)
    model.to(device())
    dual = DualEncoder(model)
    recipe = recipe_for(preset, task)
    corpus = task.train_corpora[0]
    rows, dev_rows = (columns_of(part) for part in train_and_dev(
        data, corpus, task.dev_corpus or corpus, budget.max_train_examples,
        recipe.eval_examples, seed))
    queries, candidates, pairs, keys = training_pairs(task, data, rows)
    dev = dev_set(task, data, dev_rows, seed)
    features = _pair_features(tokenizer, queries, candidates, pairs, keys,
                              query_max_length(task, recipe), recipe.max_length)
    train = {HEAD: TaskData(head=HEAD, features=features)}
    steps = total_steps([len(queries)], recipe, budget.max_steps)
    losses: list[float] = []

    def validate() -> float:
        return retrieval_score(task, model.encoder, tokenizer, dev, recipe)

    metrics = stage_metrics(monitor)
    report = reporter(progress, metrics, 0, steps)

    def on_step(step: StepReport) -> None:
        losses.append(round(step.loss, 6))
        report(step)

    result = train_loop(dual, train, recipe, steps, validate, seed, on_step=on_step,
                        resume_dir=resume_dir)
    close_metrics(metrics)
    if not is_main():
        return  # data-parallel: the first process writes
    save_checkpoint(model, tokenizer, out / "model", {
        "architecture": arch.name, "task": task.name, "seed": seed,
        "initialised_from": "intermediate" if init else "pretrained",
        "dual_encoder": {"pooling": POOLING, "scale": dual.scale}})
    log = {"kind": "target", "task": task.name, "model": "dual_encoder",
           "pooling": POOLING, "scale": dual.scale, "recipe": recipe.model_dump(),
           "pairs": len(queries), "skipped": len(rows["id"]) - len(queries),
           "dev": {"queries": len(dev.query_ids), "candidates": len(dev.candidate_ids)},
           "results": [{"corpus": corpus, **result.__dict__}], "losses": losses}
    write_text(out / "training_log.json", json.dumps(log, indent=2, default=str) + "\n")
