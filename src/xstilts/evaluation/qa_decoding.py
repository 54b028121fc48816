"""Turn start/end logits of sliding-window QA features into answer texts.

The answer text is cut from the ORIGINAL context with the tokens' character offsets, so
the context's casing, accents and inner whitespace survive tokenisation (an uncased
WordPiece model would otherwise give lower-cased answers). Only spans that lie wholly
inside one window are considered, and the best one over all windows of an example wins:
an answer cut by a window's edge is then found in the next window, which holds it whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xstilts.training.features import QAFeatures


@dataclass(frozen=True)
class _Span:
    score: float
    start_char: int
    end_char: int


def decode_answers(
    features: QAFeatures,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    n_best: int = 20,
    max_answer_length: int = 30,
    allow_impossible: bool = False,
    null_score_threshold: float = 0.0,
) -> dict[str, str]:
    """Map each example id to its best answer text.

    A span (s, e) of one feature is valid when both are context tokens, e ≥ s and it is
    at most ``max_answer_length`` tokens long; its score is start[s] + end[e], with s and e
    among the feature's ``n_best`` highest logits. With ``allow_impossible`` (SQuAD 2.0)
    the answer is "" when the smallest null score over the example's windows (start + end
    logit of token 0) exceeds the best span's score by more than ``null_score_threshold``.
    An example without any valid span gets "". Answers are stripped of outer whitespace.
    """
    start_logits = np.asarray(start_logits, dtype=np.float64)
    end_logits = np.asarray(end_logits, dtype=np.float64)
    _check_shapes(features, start_logits, end_logits)
    best: dict[int, _Span] = {}
    null: dict[int, float] = {}
    for feature, example in enumerate(features.example_index):
        starts, ends = start_logits[feature], end_logits[feature]
        null_score = float(starts[0] + ends[0])
        null[example] = min(null.get(example, null_score), null_score)
        span = _best_span(features.offsets[feature], starts, ends, n_best, max_answer_length)
        if span is not None and (example not in best or span.score > best[example].score):
            best[example] = span
    answers = {}
    for example, example_id in enumerate(features.example_ids):
        span = best.get(example)
        impossible = allow_impossible and example in null and (
            span is None or null[example] - span.score > null_score_threshold)
        if span is None or impossible:
            answers[example_id] = ""
        else:
            answers[example_id] = features.context[example][span.start_char:span.end_char].strip()
    return answers


def _check_shapes(features: QAFeatures, start_logits: np.ndarray, end_logits: np.ndarray
                  ) -> None:
    expected = (len(features.example_index), features.offsets.shape[1])
    for name, logits in (("start_logits", start_logits), ("end_logits", end_logits)):
        if logits.ndim != 2 or logits.shape[0] != expected[0] or logits.shape[1] < expected[1]:
            raise ValueError(f"{name} has shape {logits.shape}; expected {expected} "
                             "(features × tokens)")


def _top(logits: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest logits, highest first; ties keep the lower index."""
    return np.argsort(-logits, kind="stable")[:n]


def _best_span(
    offsets: np.ndarray, starts: np.ndarray, ends: np.ndarray, n_best: int,
    max_answer_length: int,
) -> _Span | None:
    """The best valid span of one feature (first found among equal scores), or None."""
    size = offsets.shape[0]
    best: _Span | None = None
    top_ends = _top(ends[:size], n_best)
    for start in _top(starts[:size], n_best):
        if offsets[start, 0] < 0:
            continue
        for end in top_ends:
            if end < start or end - start + 1 > max_answer_length or offsets[end, 0] < 0:
                continue
            score = float(starts[start] + ends[end])
            if best is None or score > best.score:
                best = _Span(score, int(offsets[start, 0]), int(offsets[end, 1]))
    return best
