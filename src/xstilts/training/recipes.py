"""Training recipes: learning rate, schedule, batch, epochs and lengths per task.

``jiant`` follows the XTREME target recipe jiant ships and the X-STILTs guide reuses
(jiant/scripts/benchmarks/xtreme): AdamW, lr 1e-5, 10% linear warmup, batch 4 with gradient
accumulation 8 (classification, tagging) or 4 (QA), epochs XNLI 2 / PAWS-X 5 / UD-POS 10 /
PAN-X 10 / QA 2, max length 256 (classification, tagging), 384 (QA), 512 (retrieval),
validation every 1000 steps on 500 English dev examples, patience 30 validations. The
intermediate-task values of Phang et al. are not confirmed from the paper; the same recipe
with 2 epochs (QA 2, the small multiple-choice sets 3) is used.

``xtreme`` follows the google-research/xtreme baseline scripts (lr 2e-5/3e-5, batch 32,
max length 128 for classification and tagging, 384 with stride 128 for QA).

``smoke`` is for the tiny offline models: large learning rate, short lengths, a few hundred
steps. Budgets in the study config (max steps / examples) cap any recipe.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from xstilts.errors import UserError
from xstilts.tasks.catalogue import Task


class Recipe(BaseModel):
    """Everything the training loop needs to know about how to train one model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    learning_rate: float
    warmup_proportion: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    adam_epsilon: float = 1e-8
    epochs: float
    batch_size: int
    grad_accumulation: int = 1
    max_length: int
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    eval_every: int  # optimizer steps between English-dev validations
    eval_examples: int  # English dev examples used for model selection
    patience: int  # validations without improvement before stopping
    eval_batch_size: int = 32


def _length(task_type: str, qa: int, other: int, retrieval: int) -> int:
    if task_type == "span_qa":
        return qa
    if task_type in ("bitext_retrieval", "entity_retrieval", "answer_retrieval"):
        return retrieval
    return other


JIANT_EPOCHS = {"xnli": 2, "pawsx": 5, "udpos": 10, "panx": 10, "xquad": 2, "mlqa": 2,
                "tydiqa": 2, "xcopa": 5, "mewslix": 2, "lareqa": 3}


def _jiant(task: Task) -> Recipe:
    qa = task.type == "span_qa"
    epochs = JIANT_EPOCHS.get(task.name, 3 if task.type == "multiple_choice" else 2)
    return Recipe(learning_rate=1e-5, epochs=epochs, batch_size=4,
                  grad_accumulation=4 if qa else 8,
                  max_length=_length(task.type, 384, 256, 512), eval_every=1000,
                  eval_examples=500, patience=30)


def _xtreme(task: Task) -> Recipe:
    qa = task.type == "span_qa"
    return Recipe(learning_rate=3e-5 if qa or task.name == "xnli" else 2e-5,
                  epochs=3 if qa else (10 if task.type == "tagging" else 5),
                  batch_size=4 if qa else 2, grad_accumulation=8 if qa else 16,
                  weight_decay=1e-4 if qa else 0.0,
                  max_length=_length(task.type, 384, 128, 512), eval_every=1000,
                  eval_examples=2000, patience=10)


def _smoke(task: Task) -> Recipe:
    return Recipe(learning_rate=2e-3, warmup_proportion=0.06, weight_decay=0.0,
                  epochs=4, batch_size=16, max_length=_length(task.type, 128, 64, 64),
                  doc_stride=32, max_query_length=24, eval_every=40, eval_examples=100,
                  patience=3)


PRESETS = {"jiant": _jiant, "xtreme": _xtreme, "smoke": _smoke}


def recipe_for(preset: str, task: Task) -> Recipe:
    """The preset's recipe for one task."""
    try:
        return PRESETS[preset](task)
    except KeyError:
        raise UserError(f"unknown recipe preset '{preset}'; choose one of: "
                        f"{', '.join(PRESETS)}") from None
