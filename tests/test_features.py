"""Model inputs per task type, checked for the three tokenizer families of the study.

The tokenizers are tiny fast tokenizers trained here (a WordPiece model wrapped as BERT, and
Unigram models wrapped as XLM-R and mT5), so these tests need no download.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from tokenizers import trainers
from transformers import BertTokenizerFast, T5TokenizerFast, XLMRobertaTokenizerFast

from xstilts.errors import UserError
from xstilts.training.features import (
    FeatureCache,
    QAFeatures,
    encode_choices,
    encode_pairs,
    encode_qa,
    encode_tagging,
    tags_by_word,
    tokenizer_fingerprint,
)

WORDS = (
    "the a of and to in is was river bank money city capital country people "
    "Paris London France England Germany Berlin Rome Italy north south east west "
    "quick brown fox jumps over lazy dog cat house garden tree water mountain "
    "king queen river sea lake island bridge road train station market school "
    "international cooperation unbelievable extraordinary government university"
).split()
FAMILIES = ("bert", "xlmr", "mt5")


def corpus(size: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14))) + "."
            for _ in range(size)]


def _unigram(special_tokens: list[str], vocab_size: int) -> Tokenizer:
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                                      unk_token="<unk>")
    tokenizer.train_from_iterator(corpus(), trainer)
    return tokenizer


@functools.cache
def make_tokenizer(family: str, vocab_size: int = 120):
    """A small fast tokenizer of the family: "bert" (uncased WordPiece), "xlmr" or "mt5"."""
    if family == "bert":
        backend = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        backend.normalizer = normalizers.BertNormalizer(lowercase=True)
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece()
        backend.train_from_iterator(corpus(), trainers.WordPieceTrainer(
            vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
        cls, sep = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
        return BertTokenizerFast(tokenizer_object=backend)
    if family == "xlmr":
        backend = _unigram(["<s>", "<pad>", "</s>", "<unk>", "<mask>"], vocab_size)
        backend.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
            special_tokens=[("<s>", 0), ("</s>", 2)])
        return XLMRobertaTokenizerFast(tokenizer_object=backend)
    if family == "mt5":
        backend = _unigram(["<pad>", "</s>", "<unk>"], vocab_size)
        backend.post_processor = processors.TemplateProcessing(
            single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)])
        return T5TokenizerFast(tokenizer_object=backend)
    raise ValueError(family)


def long_context(words: int = 120, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


# --- pairs --------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_pairs_pad_to_longest_and_have_token_types_only_for_bert(family):
    tokenizer = make_tokenizer(family)
    out = encode_pairs(tokenizer, ["the dog", "a quick brown fox jumps"], ["a cat", "the sea"],
                       max_length=64, labels=[2, 0])
    expected = {"input_ids", "attention_mask", "labels"} | (
        {"token_type_ids"} if family == "bert" else set())
    assert set(out) == expected
    assert all(tensor.dtype == torch.long for tensor in out.values())
    assert out["labels"].tolist() == [2, 0]
    lengths = out["attention_mask"].sum(dim=1)
    assert out["input_ids"].shape == (2, int(lengths.max()))
    short = int(lengths.argmin())
    assert (out["input_ids"][short, int(lengths[short]):] == tokenizer.pad_token_id).all()
    if family == "bert":
        second_segment = out["token_type_ids"][0, : int(lengths[0])].tolist()
        assert second_segment[0] == 0 and second_segment[-1] == 1


@pytest.mark.parametrize("family", FAMILIES)
def test_pairs_truncate_longest_first(family):
    tokenizer = make_tokenizer(family)
    out = encode_pairs(tokenizer, [long_context(60)], [long_context(30, seed=2)], max_length=32)
    assert out["input_ids"].shape == (1, 32)
    assert "labels" not in out
    single = encode_pairs(tokenizer, [long_context(60)], None, max_length=20)
    assert single["input_ids"].shape == (1, 20)


# --- tagging ------------------------------------------------------------------------------

TAGS = ("O", "B-LOC", "I-LOC", "B-PER")
LABEL_TO_ID = {tag: i for i, tag in enumerate(TAGS)}
SENTENCES = [
    ["Paris", "is", "the", "capital", "of", "France", "."],
    ["extraordinary", "international", "cooperation"],
    ["the", "unbelievable", "king", "of", "England", "and", "Germany", "was", "there"],
]
SENTENCE_TAGS = [
    ["B-LOC", "O", "O", "O", "O", "B-LOC", "O"],
    ["O", "B-PER", "O"],
    ["O", "O", "B-PER", "O", "B-LOC", "O", "B-LOC", "O", "O"],
]


def subtoken_count(tokenizer, word: str) -> int:
    return len(tokenizer([word], is_split_into_words=True, add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize("family", FAMILIES)
def test_tagging_labels_first_subtoken_only(family):
    tokenizer = make_tokenizer(family)
    out = encode_tagging(tokenizer, SENTENCES, SENTENCE_TAGS, LABEL_TO_ID, max_length=128)
    assert out["truncated_words"] == [0, 0, 0]
    special_ids = set(tokenizer.all_special_ids)
    split_words = 0
    for row, (words, tags) in enumerate(zip(SENTENCES, SENTENCE_TAGS)):
        word_index = out["word_index"][row].tolist()
        labels = out["labels"][row].tolist()
        ids = out["input_ids"][row].tolist()
        firsts = [word_index.index(i) for i in range(len(words))]
        assert sorted(i for i in word_index if i >= 0) == list(range(len(words)))
        for i, position in enumerate(firsts):
            assert labels[position] == LABEL_TO_ID[tags[i]]
            count = subtoken_count(tokenizer, words[i])
            split_words += count > 1
            following = labels[position + 1: position + count]
            assert following == [-100] * (count - 1)
            assert word_index[position + 1: position + count] == [-1] * (count - 1)
        for position, token in enumerate(ids):
            if token in special_ids:
                assert labels[position] == -100 and word_index[position] == -1
        assert sum(label != -100 for label in labels) == len(words)
    assert split_words > 0, "the test needs words split into several sub-tokens"
    back = tags_by_word(out["word_index"], out["labels"].clamp(min=0),
                        [len(words) for words in SENTENCES], TAGS, default="O")
    assert back == SENTENCE_TAGS


@pytest.mark.parametrize("family", FAMILIES)
def test_tagging_counts_words_lost_to_truncation(family):
    tokenizer = make_tokenizer(family)
    words = ["unbelievable", "international", "cooperation", "of", "the", "government"] * 4
    tags = ["B-PER"] * len(words)
    out = encode_tagging(tokenizer, [words, ["the", "dog"]], [tags, ["O", "O"]], LABEL_TO_ID,
                         max_length=16)
    assert out["input_ids"].shape == (2, 16)
    kept = int((out["word_index"][0] >= 0).sum())
    assert 0 < kept < len(words)
    assert out["truncated_words"] == [len(words) - kept, 0]
    predictions = torch.full_like(out["input_ids"], LABEL_TO_ID["B-LOC"])
    back = tags_by_word(out["word_index"], predictions, [len(words), 2], TAGS, default="O")
    assert back[0] == ["B-LOC"] * kept + ["O"] * (len(words) - kept)
    assert back[1] == ["B-LOC", "B-LOC"]


def test_tagging_without_tags_and_unknown_tag():
    tokenizer = make_tokenizer("bert")
    out = encode_tagging(tokenizer, SENTENCES, None, LABEL_TO_ID, max_length=64)
    assert "labels" not in out and out["word_index"].shape == out["input_ids"].shape
    with pytest.raises(UserError, match="B-MISC"):
        encode_tagging(tokenizer, [["Paris"]], [["B-MISC"]], LABEL_TO_ID, max_length=64)


# --- QA -----------------------------------------------------------------------------------


def qa_example(seed: int = 1):
    context = long_context(120, seed=seed)
    answer = "the capital of France"
    context = context[:300].rsplit(" ", 1)[0] + " " + answer + " " + context[300:]
    start = context.index(answer)
    return context, answer, start


@pytest.mark.parametrize("family", FAMILIES)
def test_qa_windows_and_answer_positions(family):
    tokenizer = make_tokenizer(family)
    context, answer, start = qa_example()
    features = encode_qa(
        tokenizer, ["what is Paris?", "  where is the dog?"],
        [context, "the dog is in the house."],
        ["q1", "q2"], max_length=64, doc_stride=16, max_query_length=8,
        answers=[{"text": [answer], "answer_start": [start]}, {"text": [], "answer_start": []}])
    assert isinstance(features, QAFeatures)
    windows = [f for f, e in enumerate(features.example_index) if e == 0]
    assert len(windows) > 2
    assert features.example_index == [0] * len(windows) + [1]
    assert features.input_ids.shape == (len(windows) + 1, 64)
    assert features.offsets.shape == (len(windows) + 1, 64, 2)
    assert (features.token_type_ids is not None) == (family == "bert")
    assert features.context == [context, "the dog is in the house."]
    found = 0
    for f in windows:
        offsets = features.token_offsets(f)
        inside = [o for o in offsets if o is not None]
        whole = inside[0][0] <= start and inside[-1][1] >= start + len(answer)
        s, e = int(features.start_positions[f]), int(features.end_positions[f])
        if whole:
            found += 1
            assert context[offsets[s][0]:offsets[e][1]] == answer
        else:
            assert (s, e) == (0, 0)
    assert 0 < found < len(windows)
    # Consecutive windows share about doc_stride context tokens.
    first, second = features.token_offsets(windows[0]), features.token_offsets(windows[1])
    shared = set(o for o in first if o) & set(o for o in second if o)
    assert len(shared) >= 10
    # Unanswerable: CLS / first token.
    assert int(features.start_positions[-1]) == int(features.end_positions[-1]) == 0
    # Non-context tokens have no offsets: the question (cut to 8 tokens) and specials.
    question_tokens = sum(o is None for o in features.token_offsets(windows[0]))
    assert question_tokens <= 8 + tokenizer.num_special_tokens_to_add(pair=True)
    assert set(features.training_inputs()) >= {"input_ids", "start_positions", "end_positions"}


def test_qa_without_answers_and_bad_stride():
    tokenizer = make_tokenizer("xlmr")
    context, _, _ = qa_example()
    features = encode_qa(tokenizer, ["what?"], [context], ["q"], max_length=64, doc_stride=16)
    assert features.start_positions is None
    assert set(features.model_inputs()) == {"input_ids", "attention_mask"}
    with pytest.raises(ValueError):
        features.training_inputs()
    room = 64 - len(tokenizer("what?", add_special_tokens=False)["input_ids"]) - 4
    encode_qa(tokenizer, ["what?"], [context], ["q"], max_length=64, doc_stride=room - 1)
    with pytest.raises(UserError, match="doc_stride"):
        encode_qa(tokenizer, ["what?"], [context], ["q"], max_length=64, doc_stride=room)


# --- multiple choice ----------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_choices_shapes(family):
    tokenizer = make_tokenizer(family)
    out = encode_choices(
        tokenizer, ["the dog was in the house.", ""], ["what happened?", "the cat"],
        [["it ran", "it sat", "the king"], ["a", "b", "the quick brown fox"]],
        max_length=24, labels=[1, 2])
    width = out["input_ids"].shape[-1]
    assert out["input_ids"].shape == (2, 3, width) and width <= 24
    assert out["attention_mask"].shape == (2, 3, width)
    assert ("token_type_ids" in out) == (family == "bert")
    assert out["labels"].tolist() == [1, 2]
    expected = tokenizer("the cat", "the quick brown fox")["input_ids"]
    assert out["input_ids"][1, 2, : len(expected)].tolist() == expected


def test_choices_need_equal_counts():
    with pytest.raises(ValueError, match="choices"):
        encode_choices(make_tokenizer("bert"), ["a", "b"], ["q", "q"], [["x", "y"], ["x"]],
                       max_length=16, labels=None)


# --- cache --------------------------------------------------------------------------------


def test_feature_cache_builds_once_per_key(tmp_path):
    bert, xlmr = make_tokenizer("bert"), make_tokenizer("xlmr")
    calls: list[str] = []

    def builder(tokenizer, max_length):
        def build():
            calls.append(type(tokenizer).__name__)
            return encode_pairs(tokenizer, ["a dog"], ["a cat"], max_length, labels=[1])
        return build

    key = {"task": "xnli", "language": "en", "split": "train", "max_length": 32}
    first = FeatureCache(tmp_path, bert).get_or_build(key, builder(bert, 32))
    # The tokenizer's last-call settings must not change its fingerprint.
    encode_qa(bert, ["q"], [long_context(80)], ["x"], max_length=48, doc_stride=8)
    again = FeatureCache(tmp_path, bert).get_or_build(key, builder(bert, 32))
    assert len(calls) == 1
    assert all(torch.equal(first[name], again[name]) for name in first)
    FeatureCache(tmp_path, bert).get_or_build({**key, "max_length": 16}, builder(bert, 16))
    FeatureCache(tmp_path, xlmr).get_or_build(key, builder(xlmr, 32))
    assert len(calls) == 3
    assert tokenizer_fingerprint(bert) != tokenizer_fingerprint(xlmr)
    assert not list(tmp_path.glob("**/*.tmp"))


def test_feature_cache_keeps_qa_features(tmp_path):
    tokenizer = make_tokenizer("mt5")
    context, answer, start = qa_example()
    cache = FeatureCache(tmp_path, tokenizer)

    def build():
        return encode_qa(tokenizer, ["what?"], [context], ["q"], max_length=64, doc_stride=16,
                         answers=[{"text": [answer], "answer_start": [start]}])

    built = cache.get_or_build({"corpus": "squad", "split": "train"}, build)
    loaded = cache.get_or_build({"corpus": "squad", "split": "train"}, lambda: None)
    assert loaded is not None and loaded.example_index == built.example_index
    assert np.array_equal(loaded.offsets, built.offsets)
    assert torch.equal(loaded.start_positions, built.start_positions)
