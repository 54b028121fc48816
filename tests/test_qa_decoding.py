"""Answer decoding from hand-made start/end logits over real sliding-window features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from test_features import WORDS, make_tokenizer
from xstilts.evaluation.qa_decoding import decode_answers
from xstilts.training.features import QAFeatures, encode_qa

LOW = -10.0


def mixed_case_context(words: int = 90) -> str:
    """Capitalised words and doubled spaces, which an uncased tokenizer does not keep."""
    picked = [WORDS[(i * 7) % len(WORDS)] for i in range(words)]
    return "  ".join(word.capitalize() if i % 3 == 0 else word for i, word in enumerate(picked))


def window_offsets(features: QAFeatures, feature: int) -> list[tuple[int, int] | None]:
    return features.token_offsets(feature)


def token_at(offsets, char: int, edge: int) -> int:
    """The context token covering character ``char`` (edge 0; the last one if several do),
    or the one ending at ``char`` (edge 1). Unigram "▁word" tokens may start at the space."""
    if edge == 0:
        return max(i for i, o in enumerate(offsets) if o is not None and o[0] <= char < o[1])
    return next(i for i, o in enumerate(offsets) if o is not None and o[1] == char)


def low_logits(features: QAFeatures) -> tuple[np.ndarray, np.ndarray]:
    shape = tuple(features.input_ids.shape)
    return np.full(shape, LOW), np.full(shape, LOW)


@pytest.mark.parametrize("family", ["bert", "xlmr", "mt5"])
def test_answer_split_by_window_edge_comes_from_the_window_holding_it(family):
    tokenizer = make_tokenizer(family)
    context = mixed_case_context()
    features = encode_qa(tokenizer, ["Which words?"], [context], ["q"], max_length=48,
                         doc_stride=16, max_query_length=8)
    assert len(features) >= 3
    first, second = window_offsets(features, 0), window_offsets(features, 1)
    first_context = [o for o in first if o is not None]
    edge = first_context[-1][1]  # last character of window 1's context
    second_start = next(o for o in second if o is not None)[0]
    # An answer of whole words starting inside the overlap and ending past window 1.
    word_starts = [0] + [i + 2 for i in range(len(context)) if context.startswith("  ", i)]
    begin = next(s for s in word_starts if second_start <= s < edge - 1)
    end = next(s for s in word_starts if s > edge + 1)
    end = context.index("  ", end) if "  " in context[end:] else len(context)
    answer = context[begin:end]
    assert "  " in answer and any(c.isupper() for c in answer)
    starts, ends = low_logits(features)
    # Window 1 holds only the answer's beginning: its best span is cut at the window edge.
    starts[0, token_at(first, begin, 0)] = 5.0
    ends[0, max(i for i, o in enumerate(first) if o is not None)] = 3.0
    # Window 2 holds the whole answer.
    starts[1, token_at(second, begin, 0)] = 5.0
    ends[1, token_at(second, end, 1)] = 5.0
    predicted = decode_answers(features, starts, ends, max_answer_length=40)
    assert predicted == {"q": answer}


def hand_features(context: str, token_chars: list[tuple[int, int] | None]) -> QAFeatures:
    """One window whose tokens have the given context character offsets (None: not context)."""
    size = len(token_chars)
    offsets = np.array([o if o is not None else (-1, -1) for o in token_chars], dtype=np.int32)
    return QAFeatures(
        input_ids=torch.zeros((1, size), dtype=torch.long),
        attention_mask=torch.ones((1, size), dtype=torch.long),
        token_type_ids=None, example_index=[0], offsets=offsets[None], example_ids=["q"],
        context=[context])


CONTEXT = "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu"


def word_tokens(text: str) -> list[tuple[int, int]]:
    out, position = [], 0
    for word in text.split(" "):
        out.append((position, position + len(word)))
        position += len(word) + 1
    return out


def simple_features() -> QAFeatures:
    # [CLS] q q [SEP] context words… [SEP]
    return hand_features(CONTEXT, [None, None, None, None, *word_tokens(CONTEXT), None])


def test_max_answer_length_is_respected():
    features = simple_features()
    starts, ends = low_logits(features)
    starts[0, 4 + 1] = 6.0  # "Beta"
    ends[0, 4 + 10] = 6.0   # "Lambda": 10 tokens long
    ends[0, 4 + 3] = 2.0    # "Delta": 3 tokens long
    assert decode_answers(features, starts, ends) == {"q": "Beta Gamma Delta Epsilon Zeta Eta "
                                                            "Theta Iota Kappa Lambda"}
    assert decode_answers(features, starts, ends, max_answer_length=5) == {
        "q": "Beta Gamma Delta"}


def test_only_context_tokens_and_ordered_spans():
    features = simple_features()
    starts, ends = low_logits(features)
    starts[0, 1] = ends[0, 2] = 20.0         # question tokens
    starts[0, 4 + 5], ends[0, 4 + 1] = 9, 9  # end before start
    starts[0, 4 + 2] = 4.0
    ends[0, 4 + 4] = 4.0
    assert decode_answers(features, starts, ends) == {"q": "Gamma Delta Epsilon"}


def test_impossible_answers():
    features = simple_features()
    starts, ends = low_logits(features)
    starts[0, 4 + 6], ends[0, 4 + 6] = 3.0, 3.0  # "Eta" scores 6
    starts[0, 0], ends[0, 0] = 4.0, 4.0          # null scores 8
    assert decode_answers(features, starts, ends) == {"q": "Eta"}
    assert decode_answers(features, starts, ends, allow_impossible=True) == {"q": ""}
    assert decode_answers(features, starts, ends, allow_impossible=True,
                          null_score_threshold=3.0) == {"q": "Eta"}
    starts[0, 0] = 1.0  # null now scores 5
    assert decode_answers(features, starts, ends, allow_impossible=True) == {"q": "Eta"}


def test_several_examples_and_shape_check():
    tokenizer = make_tokenizer("xlmr")
    contexts = ["the river bank is in London.", "the king of France was in Paris."]
    features = encode_qa(tokenizer, ["where?", "who?"], contexts, ["a", "b"], max_length=64,
                         doc_stride=8)
    starts, ends = low_logits(features)
    for feature, (context, word) in enumerate(zip(contexts, ["London", "king of France"])):
        offsets = window_offsets(features, feature)
        start = context.index(word)
        starts[feature, token_at(offsets, start, 0)] = 1.0
        ends[feature, token_at(offsets, start + len(word), 1)] = 1.0
    assert decode_answers(features, starts, ends) == {"a": "London", "b": "king of France"}
    with pytest.raises(ValueError, match="start_logits"):
        decode_answers(features, starts[:1], ends)
