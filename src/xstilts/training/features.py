"""Model inputs per task type, built from the canonical tables' columns.

Every encoder returns torch LongTensors padded on the right to the longest row of the call
and truncated at ``max_length``. The tokenizer is called in chunks of examples and each
chunk is turned into a numpy block at once, so that encoding a large training corpus never
holds tens of millions of Python ints and tuples at the same time. Padding is always on
the right, whatever ``tokenizer.padding_side`` says: QA positions and the CLS/first-token
index 0 then mean the same thing for every tokenizer family (BERT WordPiece, XLM-R and
mT5 Unigram).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from xstilts.atomic import atomic_path
from xstilts.errors import UserError

IGNORE_INDEX = -100
"""Label of tokens that the loss skips (non-first sub-tokens, special tokens, padding)."""

FEATURES_VERSION = 1
"""Part of every cache key: bump it when an encoder changes what it returns."""

_CHUNK = 1024  # examples per tokenizer call

T = TypeVar("T")


# --- padding ------------------------------------------------------------------------------


def _pad_rows(rows: Sequence[Sequence[Any]], value: int, dtype: type = np.int64,
              tail: tuple[int, ...] = ()) -> np.ndarray:
    """Ragged rows (of ints, or of ``tail``-shaped items) as one array padded to the longest."""
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    width = int(lengths.max()) if len(rows) else 0
    out = np.full((len(rows), width, *tail), value, dtype=dtype)
    items = list(itertools.chain.from_iterable(rows))
    if items:
        out[np.arange(width) < lengths[:, None]] = np.asarray(items, dtype=dtype).reshape(
            len(items), *tail)
    return out


def example_lengths(features: dict[str, torch.Tensor]) -> torch.Tensor:
    """Real tokens per example: the longest attention mask of each example (over choices;
    over query and candidate for a dual encoder)."""
    masks = [v for k, v in features.items() if k.endswith("attention_mask")]
    if not masks:
        first = next(iter(features.values()))
        return torch.full((first.shape[0],), first.shape[-1] if first.dim() > 1 else 1)
    return torch.stack([m.flatten(1).sum(1) if m.dim() == 2 else
                        m.sum(-1).flatten(1).max(1).values for m in masks]).max(0).values


def trim(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Dynamic padding: cut every token-aligned tensor of a batch to the batch's longest
    real sequence (features are stored padded to the longest example of the whole set).
    Each mask family (``attention_mask``, ``query_attention_mask``, ...) sets the width of
    the tensors that share its prefix and its padded length."""
    out = dict(batch)
    for name, mask in batch.items():
        if not name.endswith("attention_mask"):
            continue
        prefix, full = name[:-len("attention_mask")], mask.shape[-1]
        used = mask.reshape(-1, full).any(0).nonzero()
        width = int(used.max()) + 1 if used.numel() else 1
        if width == full:
            continue
        for key, tensor in batch.items():
            if key.startswith(prefix) and tensor.dim() >= 2 and tensor.shape[-1] == full \
                    and (prefix or not _has_other_prefix(key, batch)):
                out[key] = tensor[..., :width]
    return out


def _has_other_prefix(key: str, batch: dict[str, torch.Tensor]) -> bool:
    """Whether ``key`` belongs to a prefixed mask family (``query_``...), not the plain one."""
    return any(k != "attention_mask" and k.endswith("attention_mask")
               and key.startswith(k[:-len("attention_mask")]) for k in batch)


class _Blocks:
    """Collects per-chunk arrays by column and joins them, padded to the widest chunk."""

    def __init__(self, pad_values: dict[str, int]) -> None:
        self.pad_values = pad_values
        self.blocks: dict[str, list[np.ndarray]] = {}

    def add(self, name: str, rows: Sequence[Sequence[Any]], dtype: type = np.int64,
            tail: tuple[int, ...] = ()) -> None:
        block = _pad_rows(rows, self.pad_values[name], dtype, tail)
        self.blocks.setdefault(name, []).append(block)

    def array(self, name: str) -> np.ndarray:
        blocks = self.blocks.get(name, [])
        if not blocks:
            return np.zeros((0, 0), dtype=np.int64)
        width = max(block.shape[1] for block in blocks)
        padded = [
            np.pad(block, [(0, 0), (0, width - block.shape[1])] + [(0, 0)] * (block.ndim - 2),
                   constant_values=self.pad_values[name])
            for block in blocks
        ]
        return np.concatenate(padded)

    def tensors(self) -> dict[str, torch.Tensor]:
        return {name: torch.from_numpy(self.array(name)) for name in self.blocks}


def _pad_values(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    if tokenizer.pad_token_id is None:
        raise UserError(f"tokenizer {type(tokenizer).__name__} has no padding token")
    return {
        "input_ids": tokenizer.pad_token_id,
        "attention_mask": 0,
        "token_type_ids": tokenizer.pad_token_type_id,
        "labels": IGNORE_INDEX,
        "word_index": -1,
        "offsets": -1,
    }


def _chunks(count: int) -> Iterator[slice]:
    for start in range(0, count, _CHUNK):
        yield slice(start, min(start + _CHUNK, count))


def _model_columns(tokenizer: PreTrainedTokenizerBase) -> tuple[str, ...]:
    """The tokenizer's own inputs: token_type_ids only where the family has them (BERT)."""
    return tuple(name for name in ("input_ids", "token_type_ids", "attention_mask")
                 if name in tokenizer.model_input_names)


def _check_lengths(**columns: Sequence[Any] | None) -> int:
    sizes = {name: len(values) for name, values in columns.items() if values is not None}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"columns differ in length: {sizes}")
    return next(iter(sizes.values()), 0)


# --- pair classification ------------------------------------------------------------------


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase,
    text_a: list[str],
    text_b: list[str] | None,
    max_length: int,
    labels: list[int] | None = None,
) -> dict[str, torch.Tensor]:
    """Sentence(-pair) inputs with "longest_first" truncation, plus ``labels`` [B] if given.

    ``token_type_ids`` appear only for tokenizers that produce them (BERT-style).
    """
    count = _check_lengths(text_a=text_a, text_b=text_b, labels=labels)
    columns = _model_columns(tokenizer)
    blocks = _Blocks(_pad_values(tokenizer))
    for part in _chunks(count):
        encoded = tokenizer(text_a[part], text_b[part] if text_b is not None else None,
                            truncation="longest_first", max_length=max_length)
        for name in columns:
            blocks.add(name, encoded[name])
    out = blocks.tensors() if count else _empty(columns)
    if labels is not None:
        out["labels"] = torch.tensor(labels, dtype=torch.long)
    return out


def _empty(columns: Sequence[str]) -> dict[str, torch.Tensor]:
    return {name: torch.zeros((0, 0), dtype=torch.long) for name in columns}


# --- tagging ------------------------------------------------------------------------------


def encode_tagging(
    tokenizer: PreTrainedTokenizerBase,
    tokens: list[list[str]],
    tags: list[list[str]] | None,
    label_to_id: dict[str, int],
    max_length: int,
) -> dict[str, Any]:
    """Word-level tagging inputs; each word's label sits on its FIRST sub-token.

    Returns the model inputs, ``labels`` [B,T] (only when ``tags`` is given; -100 on
    non-first sub-tokens, special tokens and padding), ``word_index`` [B,T] (the word a
    first sub-token starts, -1 elsewhere) and ``truncated_words``: per example, the number
    of words that have no first sub-token in the encoding (cut off by ``max_length``, or
    a word that tokenises to nothing). The leaderboard needs one tag per word, so the
    caller predicts a default tag for those; ``tags_by_word`` does exactly that.
    """
    count = _check_lengths(tokens=tokens, tags=tags)
    if tags is not None:
        for sentence_tokens, sentence_tags in zip(tokens, tags):
            if len(sentence_tokens) != len(sentence_tags):
                raise ValueError("a sentence has a different number of tokens and tags")
    columns = _model_columns(tokenizer)
    blocks = _Blocks(_pad_values(tokenizer))
    truncated: list[int] = []
    for part in _chunks(count):
        encoded = tokenizer(tokens[part], is_split_into_words=True, truncation=True,
                            max_length=max_length)
        for name in columns:
            blocks.add(name, encoded[name])
        word_rows = []
        label_rows = []
        for row, example in enumerate(range(part.start, part.stop)):
            word_index = _first_subtokens(encoded.word_ids(row))
            word_rows.append(word_index)
            truncated.append(len(tokens[example]) - sum(index >= 0 for index in word_index))
            if tags is not None:
                label_rows.append(_word_labels(word_index, tags[example], label_to_id))
        blocks.add("word_index", word_rows)
        if tags is not None:
            blocks.add("labels", label_rows)
    out: dict[str, Any] = blocks.tensors() if count else _empty(
        (*columns, "word_index", *(("labels",) if tags is not None else ())))
    out["truncated_words"] = truncated
    return out


def _first_subtokens(word_ids: Sequence[int | None]) -> list[int]:
    """Word index on the first sub-token of each word, -1 on every other token."""
    out = []
    previous = None
    for word in word_ids:
        out.append(word if word is not None and word != previous else -1)
        previous = word
    return out


def _word_labels(word_index: list[int], tags: list[str], label_to_id: dict[str, int]
                 ) -> list[int]:
    try:
        return [label_to_id[tags[word]] if word >= 0 else IGNORE_INDEX for word in word_index]
    except KeyError as error:
        raise UserError(f"tag {error.args[0]!r} is not in the task's label set") from None


def tags_by_word(
    word_index: torch.Tensor,
    predictions: torch.Tensor | np.ndarray,
    num_words: Sequence[int],
    id_to_label: Sequence[str],
    default: str,
) -> list[list[str]]:
    """One predicted tag per word (the inverse of ``encode_tagging``).

    ``predictions`` [B,T] holds label ids per token; a word's tag is the one predicted on
    its first sub-token, and words with no sub-token (see ``truncated_words``) get
    ``default``.
    """
    index = np.asarray(word_index)
    predicted = np.asarray(predictions)
    out = []
    for row, size in enumerate(num_words):
        words = [default] * size
        positions = np.flatnonzero(index[row] >= 0)
        for position in positions:
            words[int(index[row, position])] = id_to_label[int(predicted[row, position])]
        out.append(words)
    return out


# --- span QA ------------------------------------------------------------------------------


@dataclass
class QAFeatures:
    """Sliding-window QA features and what decoding needs to map them back to text.

    ``offsets`` is an int32 array [F,T,2] of character (start, end) offsets into the
    example's context, (-1, -1) on every token that is not a context token (question,
    special tokens, padding). ``example_index[f]`` is the example that feature ``f``
    belongs to; ``example_ids`` and ``context`` are by example.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor | None
    example_index: list[int]
    offsets: np.ndarray
    example_ids: list[str]
    context: list[str]
    start_positions: torch.Tensor | None = None
    end_positions: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def model_inputs(self) -> dict[str, torch.Tensor]:
        """The tensors a model's forward takes at inference (no answer positions)."""
        inputs = {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        if self.token_type_ids is not None:
            inputs["token_type_ids"] = self.token_type_ids
        return inputs

    def training_inputs(self) -> dict[str, torch.Tensor]:
        """``model_inputs`` plus ``start_positions``/``end_positions`` (needs answers)."""
        if self.start_positions is None or self.end_positions is None:
            raise ValueError("these features were encoded without answers")
        return {**self.model_inputs(), "start_positions": self.start_positions,
                "end_positions": self.end_positions}

    def token_offsets(self, feature: int) -> list[tuple[int, int] | None]:
        """Feature ``feature``'s offsets as a list: (start, end), or None off the context."""
        return [None if start < 0 else (int(start), int(end))
                for start, end in self.offsets[feature]]


def encode_qa(
    tokenizer: PreTrainedTokenizerBase,
    question: list[str],
    context: list[str],
    example_ids: list[str],
    max_length: int,
    doc_stride: int,
    max_query_length: int = 64,
    answers: list[dict] | None = None,
) -> QAFeatures:
    """Question-first sliding windows over each context, with answer positions for training.

    ``doc_stride`` is the Hugging Face ``stride``: the number of context tokens that
    consecutive windows share. Questions are left-stripped and cut to
    ``max_query_length`` tokens. With ``answers`` (SQuAD layout, first answer used), each
    window gets the token positions of the answer, or 0 (CLS / first token) when the
    answer is not wholly inside the window or the question is unanswerable.
    """
    count = _check_lengths(question=question, context=context, example_ids=example_ids,
                           answers=answers)
    questions, longest = _truncate_questions(tokenizer, question, max_query_length)
    room = max_length - longest - tokenizer.num_special_tokens_to_add(pair=True)
    if count and doc_stride >= room:
        raise UserError(
            f"doc_stride {doc_stride} leaves no new context per window: it must be below "
            f"max_length - longest question ({longest} tokens) - special tokens = {room}")
    columns = _model_columns(tokenizer)
    blocks = _Blocks(_pad_values(tokenizer))
    example_index: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for part in _chunks(count):
        encoded = tokenizer(questions[part], context[part], truncation="only_second",
                            max_length=max_length, stride=doc_stride,
                            return_overflowing_tokens=True, return_offsets_mapping=True)
        for name in columns:
            blocks.add(name, encoded[name])
        offset_rows = []
        for feature, local in enumerate(encoded["overflow_to_sample_mapping"]):
            example = part.start + local
            example_index.append(example)
            offsets = _context_offsets(encoded["offset_mapping"][feature],
                                       encoded.sequence_ids(feature))
            offset_rows.append(offsets)
            if answers is not None:
                start, end = _answer_positions(offsets, answers[example])
                starts.append(start)
                ends.append(end)
        blocks.add("offsets", offset_rows, np.int32, (2,))
    tensors = blocks.tensors() if count else _empty(columns)
    offsets_array = blocks.array("offsets").astype(np.int32) if count else np.zeros(
        (0, 0, 2), dtype=np.int32)
    with_answers = answers is not None
    return QAFeatures(
        input_ids=tensors["input_ids"],
        attention_mask=tensors["attention_mask"],
        token_type_ids=tensors.get("token_type_ids"),
        example_index=example_index,
        offsets=offsets_array,
        example_ids=list(example_ids),
        context=list(context),
        start_positions=torch.tensor(starts, dtype=torch.long) if with_answers else None,
        end_positions=torch.tensor(ends, dtype=torch.long) if with_answers else None,
    )


def _truncate_questions(tokenizer: PreTrainedTokenizerBase, questions: list[str],
                        max_query_length: int) -> tuple[list[str], int]:
    """Left-strip questions and cut each after its ``max_query_length``-th token.

    Also returns the longest question's token count (after the cut).
    """
    out = []
    longest = 0
    for part in _chunks(len(questions)):
        stripped = [text.lstrip() for text in questions[part]]
        encoded = tokenizer(stripped, add_special_tokens=False, return_offsets_mapping=True)
        for text, offsets in zip(stripped, encoded["offset_mapping"]):
            if len(offsets) > max_query_length:
                text = text[: offsets[max_query_length - 1][1]]
            longest = max(longest, min(len(offsets), max_query_length))
            out.append(text)
    return out, longest


def _context_offsets(offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None]
                     ) -> list[tuple[int, int]]:
    return [(start, end) if sequence == 1 else (-1, -1)
            for (start, end), sequence in zip(offsets, sequence_ids)]


def _answer_positions(offsets: list[tuple[int, int]], answer: dict) -> tuple[int, int]:
    """Token positions of the first answer inside this window, or (0, 0) if not whole in it."""
    if not answer or not answer.get("text"):
        return 0, 0
    start_char = int(answer["answer_start"][0])
    end_char = start_char + len(answer["text"][0])
    context_tokens = [i for i, (start, _) in enumerate(offsets) if start >= 0]
    if not context_tokens:
        return 0, 0
    first, last = context_tokens[0], context_tokens[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return 0, 0
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


# --- multiple choice ----------------------------------------------------------------------


def encode_choices(
    tokenizer: PreTrainedTokenizerBase,
    context: list[str],
    question: list[str],
    choices: list[list[str]],
    max_length: int,
    labels: list[int] | None = None,
) -> dict[str, torch.Tensor]:
    """Inputs [N, num_choices, T]: first segment "context question" (stripped), second the choice.

    Truncation is "longest_first"; every example must have the same number of choices.
    """
    count = _check_lengths(context=context, question=question, choices=choices, labels=labels)
    widths = {len(options) for options in choices}
    if len(widths) > 1:
        raise ValueError(f"examples have different numbers of choices: {sorted(widths)}")
    num_choices = widths.pop() if widths else 0
    first = [f"{c} {q}".strip() for c, q, options in zip(context, question, choices)
             for _ in options]
    second = [option for options in choices for option in options]
    flat = encode_pairs(tokenizer, first, second, max_length)
    out = {name: tensor.reshape(count, num_choices, tensor.shape[-1])
           for name, tensor in flat.items()}
    if labels is not None:
        out["labels"] = torch.tensor(labels, dtype=torch.long)
    return out


# --- cache --------------------------------------------------------------------------------


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase) -> str:
    """sha256 of the tokenizer's class name and its backend ``to_str()`` configuration.

    The backend's "truncation" and "padding" entries are left out: they record the
    settings of the last call, so they change every time the tokenizer is used.
    """
    config = json.loads(tokenizer.backend_tokenizer.to_str())
    config.pop("truncation", None)
    config.pop("padding", None)
    text = type(tokenizer).__name__ + "\n" + json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FeatureCache:
    """Encoded features on disk, one file per tokenizer and key (task, language, split, …).

    Files are written through a temporary file and ``os.replace``, so a crash never leaves
    a half-written entry. Entries are loaded with ``torch.load(weights_only=False)``: only
    point the cache at folders this program wrote.
    """

    def __init__(self, folder: str | Path, tokenizer: PreTrainedTokenizerBase) -> None:
        self.folder = Path(folder)
        self.fingerprint = tokenizer_fingerprint(tokenizer)

    def key(self, key_parts: dict[str, Any]) -> dict[str, Any]:
        """The full key: the caller's parts plus tokenizer fingerprint and code version."""
        if "tokenizer" in key_parts or "features_version" in key_parts:
            raise ValueError("'tokenizer' and 'features_version' are reserved key parts")
        return {**key_parts, "tokenizer": self.fingerprint, "features_version": FEATURES_VERSION}

    def path(self, key_parts: dict[str, Any]) -> Path:
        """The file for ``key_parts`` (JSON-serialisable values only)."""
        key = self.key(key_parts)
        try:
            text = json.dumps(key, sort_keys=True)
        except TypeError as error:
            raise ValueError(f"cache key parts must be JSON values: {error}") from None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        label = "-".join(str(key_parts[name]) for name in sorted(key_parts))
        label = re.sub(r"[^A-Za-z0-9_.=]+", "_", label)[:80].strip("_.")
        return self.folder / f"{label + '-' if label else ''}{digest}.pt"

    def get_or_build(self, key_parts: dict[str, Any], build: Callable[[], T]) -> T:
        """The cached value for ``key_parts``, or ``build()``'s result, stored for next time."""
        path = self.path(key_parts)
        key = self.key(key_parts)
        if path.exists():
            try:
                payload = torch.load(path, weights_only=False)
            except Exception:  # noqa: BLE001 - an unreadable entry is rebuilt below
                payload = None
            if isinstance(payload, dict) and payload.get("key") == key:
                return payload["value"]
        value = build()
        with atomic_path(path) as staged:
            torch.save({"key": key, "value": value}, staged)
        return value
