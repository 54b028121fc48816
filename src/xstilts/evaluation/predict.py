"""Predictions of a trained head on canonical rows, in the leaderboard's item form, and the
English-dev score used for model selection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from xstilts.evaluation.gold import squad_articles
from xstilts.evaluation.metrics import accuracy, seqeval_f1, squad_em_f1
from xstilts.evaluation.qa_decoding import decode_answers
from xstilts.models.device import autocast, model_device, to
from xstilts.models.heads import HeadSpec
from xstilts.tasks.catalogue import Task
from xstilts.training.data import Rows, encode_cached
from xstilts.training.features import example_lengths, tags_by_word, trim
from xstilts.training.recipes import Recipe

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


PAD_LOGIT = -1e4  # token-level logits past a batch's longest sequence


def _by_length(inputs: dict[str, torch.Tensor], size: int
               ) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """Batches of similar length, longest first, each cut to its longest sequence, with the
    indices of their examples."""
    model_inputs = {k: v for k, v in inputs.items() if k in MODEL_INPUTS}
    order = torch.argsort(-example_lengths(model_inputs), stable=True)
    for index in order.split(size):
        yield index, trim({k: v[index] for k, v in model_inputs.items()})


@torch.no_grad()
def _logits(model: Any, head: str, inputs: dict[str, torch.Tensor], batch_size: int,
            tokens: bool = False) -> tuple[torch.Tensor, ...]:
    """Every example's logits in input order, on the CPU in float32, whatever device and
    precision the model runs in. ``tokens``: the logits are per token ([N, L, ...]) and are
    padded back to the inputs' full width."""
    model.eval()
    on = model_device(model)
    width = inputs["input_ids"].shape[-1]
    indices, parts = [], []
    for index, batch in _by_length(inputs, batch_size):
        with autocast(on):
            logits = model(head, to(batch, on)).logits
        logits = logits if isinstance(logits, tuple) else (logits,)
        parts.append([x.float().cpu() for x in logits])
        indices.append(index)
    if not parts:
        return ()
    order = torch.cat(indices)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order))
    outputs = []
    for i in range(len(parts[0])):
        pieces = [p[i] for p in parts]
        if tokens:
            pieces = [torch.nn.functional.pad(x, (0, 0) * (x.dim() - 2) +
                                              (0, width - x.shape[1]), value=PAD_LOGIT)
                      for x in pieces]
        outputs.append(torch.cat(pieces)[inverse])
    return tuple(outputs)


def predict(model: Any, head: str, task: Task, spec: HeadSpec, tokenizer: Any,
            rows: Rows, recipe: Recipe) -> Any:
    """Leaderboard items: labels, tag lists, {id: answer} or choice indices."""
    features = encode_cached(task, spec, tokenizer, rows, recipe, with_labels=False)
    rows = rows.columns
    size = recipe.eval_batch_size
    if task.type == "pair_classification":
        (logits,) = _logits(model, head, features, size) or (torch.zeros(0, 1),)
        return [spec.labels[i] for i in logits.argmax(-1).tolist()]
    if task.type == "multiple_choice":
        (scores,) = _logits(model, head, features, size) or (torch.zeros(0, 1),)
        return scores.argmax(-1).tolist()
    if task.type == "tagging":
        return _tags(model, head, spec, features, rows, size)
    if task.type == "span_qa":
        inputs = features.model_inputs()
        empty = torch.zeros(0, inputs["input_ids"].shape[-1])
        start, end = (x.numpy() for x in
                      _logits(model, head, inputs, size, tokens=True) or (empty, empty))
        answers = decode_answers(features, start, end, max_answer_length=recipe.max_answer_length,
                                 allow_impossible=task.name == "squad_v2")
        return {qid: answers.get(qid, "") for qid in rows["id"]}
    raise ValueError(f"no predictions for task type {task.type}")


def _tags(model: Any, head: str, spec: HeadSpec, features: dict, rows: dict[str, list],
          size: int) -> list[list[str]]:
    """One tag per word: the prediction on its first sub-token; words cut off by the
    maximum length get "O" (NER) or the first label of the set."""
    predicted = _logits(model, head, features, size, tokens=True)[0].argmax(-1) \
        if features["input_ids"].shape[0] else torch.zeros((0, 0), dtype=torch.long)
    default = "O" if "O" in spec.labels else spec.labels[0]
    return tags_by_word(features["word_index"], predicted, [len(t) for t in rows["tokens"]],
                        spec.labels, default)


def dev_score(task: Task, predictions: Any, rows: dict[str, list]) -> float:
    """The score model selection maximises, on English dev rows."""
    if task.type in ("pair_classification",):
        return accuracy(rows["label"], predictions)["accuracy"]
    if task.type == "multiple_choice":
        return accuracy(rows["label"], predictions)["accuracy"]
    if task.type == "tagging":
        if task.metric == "f1":
            return seqeval_f1(rows["tags"], predictions)["f1"]
        gold = [t for seq in rows["tags"] for t in seq]
        flat = [t for seq in predictions for t in seq]
        return accuracy(gold, flat)["accuracy"]
    if task.type == "span_qa":
        return _qa_score(rows, predictions)
    raise ValueError(f"no dev score for task type {task.type}")


def _qa_score(rows: dict[str, list], predictions: dict[str, str]) -> float:
    """(EM + F1) / 2; unanswerable SQuAD 2.0 questions score 100 only for an empty answer,
    as in the SQuAD 2.0 evaluation."""
    answerable = [i for i, a in enumerate(rows["answers"]) if a["text"]]
    empty = [i for i, a in enumerate(rows["answers"]) if not a["text"]]
    total = 0.0
    if answerable:
        subset = {k: [v[i] for i in answerable] for k, v in rows.items()}
        scores = squad_em_f1(squad_articles(subset), predictions)
        total += (scores["exact_match"] + scores["f1"]) / 2 * len(answerable)
    total += sum(100.0 for i in empty if predictions.get(rows["id"][i], "") == "")
    return total / max(1, len(answerable) + len(empty))
