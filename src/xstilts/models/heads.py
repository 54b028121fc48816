"""Task heads shared by every family, and the multi-task model (one encoder, many heads).

The same heads sit on BERT, XLM-R and the mT5 encoder, so that X-STILTs compares encoders and
not head designs. Sentence-level heads pool the first token for BERT/XLM-R ([CLS] / <s>) and
the mean of the non-padding tokens for mT5, whose encoder has no classification token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xstilts.models.encoder import Encoder
from xstilts.models.registry import Family

Pooling = Literal["first", "mean"]
HeadKind = Literal["classification", "tagging", "span", "multiple_choice"]
HEAD_KINDS: tuple[HeadKind, ...] = ("classification", "tagging", "span", "multiple_choice")
IGNORE_INDEX = -100
INIT_STD = 0.02  # BERT's initializer_range, used for heads of every family
DEFAULT_DROPOUT = 0.1


def default_pooling(family: Family) -> Pooling:
    """First token where the family was pretrained with one ([CLS], <s>); mean for mT5."""
    return "mean" if family == "mt5" else "first"


def masked_mean(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean over the non-padding tokens: [B, T, H] -> [B, H]."""
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """L2-normalised mean of the non-padding tokens: the retrieval embedding, [B, H]."""
    return F.normalize(masked_mean(hidden, attention_mask).float(), p=2, dim=-1)


def pool(hidden: Tensor, attention_mask: Tensor, pooling: Pooling) -> Tensor:
    """One vector per sequence, [B, H]."""
    if pooling == "first":
        return hidden[:, 0]
    if pooling == "mean":
        return masked_mean(hidden, attention_mask)
    raise ValueError(f"unknown pooling {pooling!r}; use 'first' or 'mean'")


class ClassificationHead(nn.Module):
    """Pool, then dropout, dense, tanh, dropout, projection (the BERT/RoBERTa classifier)."""

    def __init__(self, hidden: int, num_labels: int, pooling: Pooling,
                 dropout: float = DEFAULT_DROPOUT) -> None:
        super().__init__()
        if pooling not in ("first", "mean"):
            raise ValueError(f"unknown pooling {pooling!r}; use 'first' or 'mean'")
        self.pooling: Pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, num_labels)

    def forward(self, hidden: Tensor, attention_mask: Tensor) -> Tensor:
        """[B, T, H] -> logits [B, C]."""
        x = self.dropout(pool(hidden, attention_mask, self.pooling))
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class TaggingHead(nn.Module):
    """Dropout and a linear layer on every token."""

    def __init__(self, hidden: int, num_labels: int, dropout: float = DEFAULT_DROPOUT) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(self, hidden: Tensor) -> Tensor:
        """[B, T, H] -> logits [B, T, C]."""
        return self.classifier(self.dropout(hidden))


class SpanHead(nn.Module):
    """Start and end scores for every token (extractive QA)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.qa_outputs = nn.Linear(hidden, 2)

    def forward(self, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """[B, T, H] -> (start_logits [B, T], end_logits [B, T])."""
        start, end = self.qa_outputs(hidden).unbind(dim=-1)
        return start.contiguous(), end.contiguous()


class MultipleChoiceHead(nn.Module):
    """One score per (example, choice) sequence; the caller reshapes to [N, num_choices]."""

    def __init__(self, hidden: int, pooling: Pooling, dropout: float = DEFAULT_DROPOUT) -> None:
        super().__init__()
        self.scorer = ClassificationHead(hidden, 1, pooling, dropout)

    def forward(self, hidden: Tensor, attention_mask: Tensor) -> Tensor:
        """[B, T, H] -> scores [B]."""
        return self.scorer(hidden, attention_mask).squeeze(-1)


@dataclass
class HeadSpec:
    """What a head predicts: its kind and, for classification and tagging, its labels."""

    kind: HeadKind
    num_labels: int = 0
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.labels = tuple(self.labels)
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"unknown head kind {self.kind!r}; use one of {HEAD_KINDS}")
        if self.labels and not self.num_labels:
            self.num_labels = len(self.labels)
        if self.labels and self.num_labels != len(self.labels):
            raise ValueError(f"num_labels={self.num_labels} but {len(self.labels)} labels given")
        if self.kind in ("classification", "tagging") and self.num_labels < 1:
            raise ValueError(f"a {self.kind} head needs num_labels or labels")

    def to_json(self) -> dict:
        """The form stored in a checkpoint's heads.json."""
        return {"kind": self.kind, "num_labels": self.num_labels, "labels": list(self.labels)}

    @classmethod
    def from_json(cls, record: Mapping) -> HeadSpec:
        """Inverse of ``to_json``."""
        return cls(record["kind"], int(record.get("num_labels", 0)),
                   tuple(record.get("labels", ())))


@dataclass
class ModelOutput:
    """Loss (when the batch has labels) and logits: [N, C], [N, T, C], (start, end) or [N, K]."""

    loss: Tensor | None
    logits: Tensor | tuple[Tensor, Tensor]


def build_head(spec: HeadSpec, hidden: int, pooling: Pooling,
               dropout: float = DEFAULT_DROPOUT) -> nn.Module:
    """The head module for a spec."""
    if spec.kind == "classification":
        return ClassificationHead(hidden, spec.num_labels, pooling, dropout)
    if spec.kind == "tagging":
        return TaggingHead(hidden, spec.num_labels, dropout)
    if spec.kind == "span":
        return SpanHead(hidden)
    return MultipleChoiceHead(hidden, pooling, dropout)


def init_heads(heads: nn.ModuleDict, seed: int) -> None:
    """Initialise every head's linear layers from ``seed`` alone (normal(0, 0.02), zero bias),
    in head-name order, without touching the global random state."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in sorted(heads.keys()):
            for module in heads[name].modules():
                if isinstance(module, nn.Linear):
                    weight = torch.empty(module.weight.shape, dtype=torch.float32)
                    weight.normal_(0.0, INIT_STD, generator=generator)
                    module.weight.copy_(weight)
                    if module.bias is not None:
                        module.bias.zero_()


def _span_loss(logits: Tensor, positions: Tensor) -> Tensor:
    """Cross-entropy over positions; positions outside the sequence are ignored (as HF)."""
    length = logits.size(1)
    positions = positions.to(logits.device).long().clamp(0, length)
    return F.cross_entropy(logits.float(), positions, ignore_index=length)


def _token_loss(logits: Tensor, labels: Tensor) -> Tensor:
    labels = labels.to(logits.device).long().reshape(-1)
    flat = logits.float().reshape(-1, logits.size(-1))
    if not bool((labels != IGNORE_INDEX).any()):
        return flat.sum() * 0.0  # nothing to learn from; keep the graph and a finite loss
    return F.cross_entropy(flat, labels, ignore_index=IGNORE_INDEX)


class MultiTaskModel(nn.Module):
    """One shared encoder and one head per task; ``forward(head, batch)`` picks the head."""

    def __init__(self, encoder: Encoder, head_specs: Mapping[str, HeadSpec],
                 pooling: Pooling | None = None, dropout: float = DEFAULT_DROPOUT,
                 seed: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        self.head_specs: dict[str, HeadSpec] = dict(head_specs)
        self.pooling: Pooling = pooling or default_pooling(encoder.family)
        self.dropout = dropout
        hidden = encoder.hidden_size
        self.heads = nn.ModuleDict({name: build_head(spec, hidden, self.pooling, dropout)
                                    for name, spec in sorted(self.head_specs.items())})
        init_heads(self.heads, seed)

    @property
    def family(self) -> Family:
        """The encoder's family."""
        return self.encoder.family

    def forward(self, head: str, batch: Mapping[str, Tensor]) -> ModelOutput:
        """Run the encoder and one head; compute the loss when the batch has labels.

        Multiple-choice inputs are [N, K, T]; they are flattened to [N*K, T] and the scores
        come back as [N, K].
        """
        spec = self.head_specs.get(head)
        if spec is None:
            raise KeyError(f"no head {head!r}; this model has {', '.join(self.head_specs)}")
        input_ids, mask = batch["input_ids"], batch["attention_mask"]
        token_types = batch.get("token_type_ids")
        if spec.kind == "multiple_choice":
            shape = input_ids.shape[:2]
            input_ids, mask = input_ids.flatten(0, 1), mask.flatten(0, 1)
            token_types = token_types.flatten(0, 1) if token_types is not None else None
        hidden = self.encoder(input_ids, mask, token_types).last_hidden
        module = self.heads[head]
        if spec.kind == "span":
            start, end = module(hidden)
            loss = None
            if "start_positions" in batch and "end_positions" in batch:
                loss = (_span_loss(start, batch["start_positions"])
                        + _span_loss(end, batch["end_positions"])) / 2
            return ModelOutput(loss, (start, end))
        if spec.kind == "tagging":
            logits = module(hidden)
            loss = _token_loss(logits, batch["labels"]) if "labels" in batch else None
            return ModelOutput(loss, logits)
        logits = module(hidden, mask)
        if spec.kind == "multiple_choice":
            logits = logits.view(*shape)
        loss = None
        if "labels" in batch:
            loss = F.cross_entropy(logits.float(), batch["labels"].to(logits.device).long())
        return ModelOutput(loss, logits)
