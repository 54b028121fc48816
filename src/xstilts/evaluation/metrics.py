"""Metric functions that give the same numbers as the official XTREME/XTREME-R scorer.

Every score is scaled by 100, as the scorer reports it, except ``mrr_at_k`` and
``map_at_k``, which return a fraction in [0, 1]. The functions are pure: they take Python
values, not files. This lets the training/evaluation stage and the leaderboard reader
share one implementation.
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from xstilts.errors import UserError

SquadData = Sequence[Mapping[str, Any]]


def accuracy(labels: Sequence[Any], predictions: Sequence[Any]) -> dict[str, float]:
    """Percentage of exact matches (``==``, no type coercion), over ``len(predictions)``."""
    if len(predictions) == 0:
        raise ValueError("no predictions to score")
    correct = sum(1 for label, prediction in zip(labels, predictions) if prediction == label)
    return {"accuracy": correct / len(predictions) * 100}


# --- seqeval (default mode) -------------------------------------------------------------


def seqeval_f1(
    labels: Sequence[Sequence[str]], predictions: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Micro entity F1, precision and recall, as ``seqeval.metrics`` gives them in default mode.

    A tag's first character is its chunk tag and the rest (after an optional "-") is its
    type. So raw UPOS tags are chunked too: "NOUN NOUN" is one "OUN" chunk. That is the
    scorer's quirk, and it is reproduced here. seqeval walks every token in Python and
    takes about 4 s for a million tokens, which is too slow for a full submission. This
    function therefore decides where chunks start and end with seqeval's own
    ``start_of_chunk``/``end_of_chunk``. It calls them once per pair of distinct tags and
    then scans the tokens with numpy. The test suite checks that the results match
    ``seqeval.metrics`` exactly.
    """
    if len(labels) != len(predictions) or any(
        len(gold) != len(pred) for gold, pred in zip(labels, predictions)
    ):
        raise ValueError("labels and predictions differ in sentence count or sentence length")
    if any("" in sentence for sentence in (*labels, *predictions)):
        raise ValueError("empty tag")
    return seqeval_f1_flat(_flatten(labels), _flatten(predictions))


def _flatten(sentences: Iterable[Sequence[str]]) -> list[str]:
    flat: list[str] = []
    for sentence in sentences:
        flat.extend(sentence)
        flat.append("")
    return flat


def seqeval_f1_flat(labels: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    """``seqeval_f1`` for sentences laid out as in a tag file: each followed by "" (blank line).

    Raises ``ValueError`` unless both have their "" separators at the same positions.
    """
    names, gold_ids, pred_ids = aligned_tag_ids(labels, predictions)
    tables = ChunkTables(names)
    gold = tables.chunk_keys(gold_ids)
    pred = tables.chunk_keys(pred_ids)
    correct = int(np.intersect1d(gold, pred, assume_unique=True).size)
    precision = correct / pred.size if pred.size else 0.0
    recall = correct / gold.size if gold.size else 0.0
    denominator = precision + recall
    f1 = 2 * precision * recall / (denominator if denominator else 1)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def aligned_tag_ids(labels: Sequence[str], predictions: Sequence[str]
                    ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The tag names (id order) and the gold and predicted tag ids of two tag files' lines.

    Raises ``ValueError`` unless both have their "" separators at the same positions.
    """
    if len(labels) != len(predictions):
        raise ValueError("labels and predictions differ in sentence count or sentence length")
    # seqeval puts an "O" after every sentence and one more at the end; "" plays that "O".
    names = ["O"]
    vocab = {"": 0}
    for tag in sorted(set(labels).union(predictions) - {""}):
        vocab[tag] = len(names)
        names.append(tag)
    gold_ids = tag_ids(labels, vocab)
    pred_ids = tag_ids(predictions, vocab)
    if not np.array_equal(gold_ids == 0, pred_ids == 0):
        raise ValueError("labels and predictions differ in sentence count or sentence length")
    return names, gold_ids, pred_ids


def tag_ids(tags: Sequence[str], vocab: dict[str, int]) -> np.ndarray:
    """Tag ids with seqeval's final "O" (id 0) appended."""
    ids = np.zeros(len(tags) + 1, dtype=np.int64)
    ids[:-1] = np.fromiter(map(vocab.__getitem__, tags), dtype=np.int64, count=len(tags))
    return ids


class ChunkTables:
    """seqeval's chunk start/end decisions, tabulated for every pair of distinct tags."""

    def __init__(self, tags: list[str]) -> None:
        # Imported here: seqeval imports scikit-learn (over a second), which every pipeline
        # task that imports the scorer would otherwise pay for.
        from seqeval.metrics.sequence_labeling import end_of_chunk, start_of_chunk

        prefixes = [tag[0] for tag in tags]
        types = [tag[1:].split("-", maxsplit=1)[-1] or "_" for tag in tags]
        type_ids = {name: index for index, name in enumerate(dict.fromkeys(types))}
        pairs = [(a, b) for a in range(len(tags)) for b in range(len(tags))]
        shape = (len(tags), len(tags))
        self.ends = np.array(
            [end_of_chunk(prefixes[a], prefixes[b], types[a], types[b]) for a, b in pairs]
        ).reshape(shape)
        self.starts = np.array(
            [start_of_chunk(prefixes[a], prefixes[b], types[a], types[b]) for a, b in pairs]
        ).reshape(shape)
        # seqeval starts from prev_tag "O" with an empty prev_type.
        self.first_starts = np.array(
            [start_of_chunk("O", prefix, "", type_) for prefix, type_ in zip(prefixes, types)]
        )
        self.type_of = np.array([type_ids[type_] for type_ in types], dtype=np.int64)
        self.type_count = len(type_ids)

    def chunk_keys(self, ids: np.ndarray) -> np.ndarray:
        """Encode every chunk (type, begin, end) of a flattened sequence as one integer."""
        size = ids.size
        ends = np.zeros(size, dtype=bool)
        ends[1:] = self.ends[ids[:-1], ids[1:]]
        starts = np.empty(size, dtype=bool)
        starts[0] = self.first_starts[ids[0]]
        starts[1:] = self.starts[ids[:-1], ids[1:]]
        positions = np.arange(size, dtype=np.int64)
        # seqeval's begin_offset: the last start before the end position (0 if none).
        last_start = np.maximum.accumulate(np.where(starts, positions, 0))
        last_token = np.flatnonzero(ends) - 1
        begins = last_start[last_token]
        return (begins * size + last_token) * self.type_count + self.type_of[ids[last_token]]


# --- SQuAD v1.1 and MLQA v1 -------------------------------------------------------------


def squad_em_f1(dataset: SquadData, predictions: Mapping[str, str]) -> dict[str, float]:
    """Exact match and token F1 with SQuAD v1.1 (English) normalisation.

    ``dataset`` is the SQuAD ``data`` list. A question with no prediction scores 0.
    """
    return _em_f1(dataset, predictions, _normalize_squad)


def mlqa_em_f1(
    dataset: SquadData, predictions: Mapping[str, str], language: str
) -> dict[str, float]:
    """Exact match and token F1 with MLQA v1 normalisation for ``language``.

    Raises ``UserError`` for a language that MLQA cannot normalise.
    """
    if language not in _MLQA_ARTICLES:
        known = ", ".join(_MLQA_ARTICLES)
        raise UserError(f"MLQA cannot normalise answers in language {language!r}; known: {known}")
    return _em_f1(dataset, predictions, functools.partial(_normalize_mlqa, language=language))


def _em_f1(
    dataset: SquadData, predictions: Mapping[str, str], normalize: Callable[[str], str]
) -> dict[str, float]:
    """Sum the best EM and F1 over each question's gold answers, in dataset order."""
    exact_match = 0
    f1 = 0.0
    total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                prediction = normalize(predictions[qa["id"]])
                prediction_counts = Counter(prediction.split())
                golds = [normalize(answer["text"]) for answer in qa["answers"]]
                exact_match += prediction in golds
                f1 += max(_token_f1(prediction_counts, gold.split()) for gold in golds)
    if total == 0:
        raise ValueError("the dataset has no questions")
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def _token_f1(prediction_counts: Counter[str], gold_tokens: list[str]) -> float:
    """Token-overlap F1 of two normalised answers (0 when no token is shared)."""
    same = sum(
        min(count, prediction_counts[token]) for token, count in Counter(gold_tokens).items()
    )
    if same == 0:
        return 0.0
    precision = 1.0 * same / prediction_counts.total()
    recall = 1.0 * same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


_SQUAD_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _normalize_squad(text: str) -> str:
    """Lower case, drop ASCII punctuation and English articles, collapse whitespace."""
    text = text.lower().translate(_SQUAD_PUNCTUATION)
    return " ".join(_SQUAD_ARTICLES.sub(" ", text).split())


def _regex_articles(pattern: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)
    return lambda text: compiled.sub(" ", text)


def _arabic_articles(text: str) -> str:
    """MLQA's Arabic rule, ``re.sub('\\sال^|ال', ' ', text)``: its first branch can never
    match (``^`` after consumed text), so in effect every "ال" is replaced, even inside
    words."""
    return text.replace("ال", " ")


def _keep(text: str) -> str:
    return text


_MLQA_ARTICLES: dict[str, Callable[[str], str]] = {
    "en": _regex_articles(r"\b(a|an|the)\b"),
    "es": _regex_articles(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "hi": _keep,  # Hindi has no articles.
    "vi": _regex_articles(r"\b(của|là|cái|chiếc|những)\b"),
    "de": _regex_articles(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "ar": _arabic_articles,
    "zh": _keep,  # Chinese has no articles.
}
_MIXED_SEGMENTATION_LANGUAGES = frozenset({"zh"})


@functools.cache
def _mlqa_punctuation() -> frozenset[str]:
    """MLQA's PUNCT: every code point below ``sys.maxunicode`` in a P* category, plus
    ``string.punctuation``. It takes a scan of 1.1M code points, so it is built once."""
    unicode_punct = (
        char
        for char in map(chr, range(sys.maxunicode))
        if unicodedata.category(char).startswith("P")
    )
    return frozenset(unicode_punct).union(string.punctuation)


@functools.cache
def _mlqa_punctuation_table() -> dict[int, None]:
    return dict.fromkeys(map(ord, _mlqa_punctuation()))


def _normalize_mlqa(text: str, language: str) -> str:
    """MLQA v1: lower, drop PUNCT, drop articles, tokenise, join the tokens with spaces.

    MLQA also drops blank tokens, but neither ``split()`` nor a single ideograph or PUNCT
    character can yield one.
    """
    text = _MLQA_ARTICLES[language](text.lower().translate(_mlqa_punctuation_table()))
    if language in _MIXED_SEGMENTATION_LANGUAGES:
        tokens = _mixed_segmentation(text)
    else:
        tokens = text.split()
    return " ".join(tokens)


def _mixed_segmentation(text: str) -> list[str]:
    """Split each CJK ideograph (U+4E00..U+9FA5) or PUNCT character into its own token,
    and whitespace-split the runs between them."""
    punct = _mlqa_punctuation()
    tokens: list[str] = []
    run_start = 0
    for index, char in enumerate(text):
        if "\u4e00" <= char <= "\u9fa5" or char in punct:
            tokens.extend(text[run_start:index].split())
            tokens.append(char)
            run_start = index + 1
    tokens.extend(text[run_start:].split())
    return tokens


# --- retrieval ----------------------------------------------------------------------------


def bucc_f1(
    gold_pairs: Iterable[str | Sequence[str]], predicted_pairs: Iterable[str | Sequence[str]]
) -> dict[str, float]:
    """Set F1 over sentence-id pairs. A pair is a "src\\ttgt" line or a sequence of ids.

    Duplicate pairs count once. All three scores are 0 when no pair is correct.
    """
    gold = {_pair(item) for item in gold_pairs}
    predicted = {_pair(item) for item in predicted_pairs}
    correct = len(gold & predicted)
    if correct == 0:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    precision = correct / len(predicted)
    recall = correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def _pair(item: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(item.split("\t")) if isinstance(item, str) else tuple(item)


def mrr_at_k(
    gold: Mapping[Hashable, Sequence[str]],
    predictions: Mapping[Hashable, Sequence[str]],
    k: int = 20,
) -> float:
    """Mewsli-X mean reciprocal rank in [0, 1], averaged over gold ids.

    The gold entity is the first element, stripped. Only the top ``k`` predictions
    count. A missing id scores 0, extra predicted ids are ignored, and empty gold
    gives 0.0.
    """
    reciprocal_ranks = [
        _reciprocal_rank(entities[0].strip(), predictions.get(example_id, [])[:k])
        for example_id, entities in gold.items()
    ]
    return sum(reciprocal_ranks) / len(reciprocal_ranks) if reciprocal_ranks else 0.0


def _reciprocal_rank(target: str, ranked: Sequence[str]) -> float:
    for rank, candidate in enumerate(ranked, start=1):
        if candidate == target:
            return 1.0 / rank
    return 0.0


def map_at_k(
    gold: Mapping[Hashable, Sequence[str]],
    predictions: Mapping[Hashable, Sequence[str]],
    k: int = 20,
) -> float:
    """LAReQA mean average precision at ``k`` in [0, 1], averaged over gold queries.

    For one query, AP@k adds hits/rank at each new correct candidate in the top ``k``
    and divides by min(number of distinct golds, k). A missing query scores 0.
    """
    precisions = [
        _average_precision(set(targets), predictions.get(query_id, [])[:k], k)
        for query_id, targets in gold.items()
    ]
    return sum(precisions) / len(precisions) if precisions else 0.0


def _average_precision(targets: set[str], ranked: Sequence[str], k: int) -> float:
    if not targets:
        return 0.0
    found: set[str] = set()
    total = 0.0
    for rank, candidate in enumerate(ranked, start=1):
        if candidate in targets and candidate not in found:
            found.add(candidate)
            total += len(found) / rank
    return total / min(len(targets), k)
