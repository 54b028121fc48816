"""Tiny, randomly initialised stand-ins for mBERT, XLM-R and mT5 (``xstilts models build-tiny``).

They use the real ``transformers`` model and tokenizer classes with small configs, so the whole
pipeline (tokenisation quirks, pooling, checkpoints, transfer) runs offline on a laptop in
seconds. Tokenizers are trained on the text of the data folder, all languages included.

Vocabularies are learnt with SentencePiece (single-threaded, deterministic) and served through
the ``tokenizers``-backed classes (``BertTokenizer`` = WordPiece, ``XLMRobertaTokenizer`` and
``T5Tokenizer`` = Unigram). The ``tokenizers`` trainers are not used because their output changes
from run to run (hash-map order: Unigram scores drift, WordPiece ids permute), and a build must
be reproducible byte for byte.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import sentencepiece as spm
import torch
from tokenizers import normalizers, pre_tokenizers
from transformers import (
    BertConfig,
    BertModel,
    BertTokenizer,
    MT5Config,
    MT5EncoderModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Tokenizer,
    XLMRobertaConfig,
    XLMRobertaModel,
    XLMRobertaTokenizer,
)

import xstilts
from xstilts.atomic import atomic_path
from xstilts.data.fetch import read_manifest, read_table
from xstilts.errors import UserError
from xstilts.models.registry import TINY_FAMILIES, TINY_NAMES, Family, tiny_dir

VOCAB_SIZE = 4000
MAX_LENGTH = 512
HIDDEN, LAYERS, HEADS, INTERMEDIATE, D_KV = 64, 4, 4, 128, 16
CHARACTER_COVERAGE = 0.9995  # as XLM-R/mT5: the rarest characters become <unk>
# Columns that hold identifiers or label names, not text the encoder will read.
NON_TEXT_COLUMNS = frozenset({"id", "gold_id", "gold_ids", "label", "tags", "side", "language",
                              "member"})
_WORD_BOUNDARY = "\u2581"  # SentencePiece's word-start marker


# --------------------------------------------------------------------------- corpus

def corpus_texts(data_dir: Path, manifest: dict | None = None) -> list[str]:
    """Every text of every table in the manifest, in a fixed order (table key, column, row).

    Lists of strings (tokens, choices) are joined with spaces.
    """
    manifest = manifest or read_manifest(data_dir)
    texts: list[str] = []
    for unit in sorted(manifest["units"], key=lambda u: u["key"]):
        table = read_table(data_dir, unit["corpus"], unit["language"], unit["split"], manifest)
        for field in table.schema:
            if field.name not in NON_TEXT_COLUMNS:
                texts.extend(_column_texts(table.column(field.name), field.type))
    if not texts:
        raise UserError(f"{data_dir} holds no text to train a tokenizer on; fetch data first")
    return texts


def _column_texts(column: pa.ChunkedArray, kind: pa.DataType) -> Iterator[str]:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return (value for value in column.to_pylist() if value)
    if pa.types.is_list(kind) and pa.types.is_string(kind.value_type):
        return (" ".join(v for v in value if v) for value in column.to_pylist() if value)
    return iter(())


def _sentencepiece_vocab_size(texts: Sequence[str], wanted: int) -> int:
    """``wanted``, raised where the data's alphabet would not fit (SentencePiece refuses)."""
    counts = Counter(char for text in texts for char in text if not char.isspace())
    total, covered, required = sum(counts.values()), 0, 0
    for _, count in counts.most_common():
        if covered >= CHARACTER_COVERAGE * total:
            break
        covered += count
        required += 1
    return max(wanted, required + 256)


def _train_sentencepiece(texts: Sequence[str], model_type: str,
                         vocab_size: int) -> spm.SentencePieceProcessor:
    """Train a SentencePiece model in memory on every text (no sampling, one thread), so
    that it is reproducible."""
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=proto, model_type=model_type,
        vocab_size=_sentencepiece_vocab_size(texts, vocab_size), hard_vocab_limit=False,
        character_coverage=CHARACTER_COVERAGE, normalization_rule_name="identity",
        split_by_whitespace=True, byte_fallback=False, num_threads=1,
        input_sentence_size=0, max_sentence_length=1 << 20, unk_id=0, bos_id=-1, eos_id=-1,
        pad_id=-1, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=proto.getvalue())


# --------------------------------------------------------------------------- tokenizers

def _bert_lines(texts: Sequence[str]) -> list[str]:
    """Texts after BERT's own (cased) normalisation and pre-tokenisation, words space-joined."""
    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                            strip_accents=None, lowercase=False)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return [" ".join(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(t)))
            for t in texts]


def wordpiece_tokenizer(texts: Sequence[str]) -> BertTokenizer:
    """A cased multilingual WordPiece tokenizer, like mBERT's.

    A SentencePiece BPE model trained on BERT-pre-tokenised text gives the pieces: a piece
    that starts a word is a WordPiece word start, any other piece a ``##`` continuation.
    """
    lines = _bert_lines(texts)
    inner = {char for line in lines for word in line.split() for char in word[1:]}
    sp = _train_sentencepiece(lines, "bpe", VOCAB_SIZE)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_unknown(i) or sp.is_control(i) or piece == _WORD_BOUNDARY:
            continue
        if piece.startswith(_WORD_BOUNDARY):
            tokens.append(piece[1:])
        elif len(piece) == 1:  # the alphabet: word starts, and continuations where seen
            tokens.extend([piece, f"##{piece}"] if piece in inner else [piece])
        else:
            tokens.append(f"##{piece}")
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    return BertTokenizer(vocab=vocab, do_lower_case=False, tokenize_chinese_chars=True,
                         strip_accents=None, model_max_length=MAX_LENGTH)


def unigram_pieces(texts: Sequence[str]) -> list[tuple[str, float]]:
    """SentencePiece Unigram pieces and scores (``<unk>`` excluded), as XLM-R and mT5 use."""
    sp = _train_sentencepiece(texts, "unigram", VOCAB_SIZE)
    return [(sp.id_to_piece(i), float(sp.get_score(i))) for i in range(sp.get_piece_size())
            if not (sp.is_unknown(i) or sp.is_control(i))]


def xlmr_tokenizer(pieces: list[tuple[str, float]]) -> XLMRobertaTokenizer:
    """XLM-R layout: <s>=0 <pad>=1 </s>=2 <unk>=3, pieces, <mask> last."""
    specials = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    return XLMRobertaTokenizer(vocab=[*specials, *pieces, ("<mask>", 0.0)],
                               model_max_length=MAX_LENGTH)


def mt5_tokenizer(pieces: list[tuple[str, float]]) -> T5Tokenizer:
    """mT5 layout: <pad>=0 </s>=1 <unk>=2, pieces; no sentinels (the encoder never uses them)."""
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    return T5Tokenizer(vocab=[*specials, *pieces], extra_ids=0, model_max_length=MAX_LENGTH)


# --------------------------------------------------------------------------- models

def tiny_model(family: Family, tokenizer: PreTrainedTokenizerBase, seed: int) -> PreTrainedModel:
    """The family's real encoder class with a tiny config, initialised from ``seed``."""
    vocab = len(tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if family == "bert":
            return BertModel(BertConfig(
                vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                max_position_embeddings=MAX_LENGTH, type_vocab_size=2,
                pad_token_id=tokenizer.pad_token_id), add_pooling_layer=False)
        if family == "xlmr":
            return XLMRobertaModel(XLMRobertaConfig(
                vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                # RoBERTa positions start after the padding index: 512 tokens need 514.
                max_position_embeddings=MAX_LENGTH + 2, type_vocab_size=1, layer_norm_eps=1e-5,
                pad_token_id=1, bos_token_id=0, eos_token_id=2), add_pooling_layer=False)
        return MT5EncoderModel(MT5Config(
            vocab_size=vocab, d_model=HIDDEN, d_kv=D_KV, d_ff=INTERMEDIATE, num_layers=LAYERS,
            num_decoder_layers=LAYERS, num_heads=HEADS, relative_attention_num_buckets=32,
            relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
            tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
            decoder_start_token_id=0))


# --------------------------------------------------------------------------- build

def build_tiny(data_dir: Path, names: Sequence[str] = TINY_NAMES,
               seed: int = 0) -> dict[str, Path]:
    """Build the named tiny models into ``<data_dir>/models/<name>/``; return their folders.

    Each folder is written atomically and is identical byte for byte on every build from the
    same data and seed.
    """
    data_dir = Path(data_dir)
    unknown = [n for n in names if n not in TINY_FAMILIES]
    if unknown:
        raise UserError(f"unknown tiny model(s) {', '.join(unknown)}; choose from "
                        f"{', '.join(TINY_NAMES)}")
    manifest = read_manifest(data_dir)
    texts = corpus_texts(data_dir, manifest)
    pieces: list[tuple[str, float]] | None = None
    built: dict[str, Path] = {}
    for name in dict.fromkeys(names):
        family = TINY_FAMILIES[name]
        if family == "bert":
            tokenizer: PreTrainedTokenizerBase = wordpiece_tokenizer(texts)
        else:
            pieces = pieces if pieces is not None else unigram_pieces(texts)
            tokenizer = xlmr_tokenizer(pieces) if family == "xlmr" else mt5_tokenizer(pieces)
        model = tiny_model(family, tokenizer, seed)
        info = {"name": name, "family": family, "synthetic": True,
                "data_synthetic": bool(manifest.get("synthetic")),
                "data_version": manifest["data_version"], "seed": seed,
                "xstilts_version": xstilts.__version__}
        built[name] = _save(tiny_dir(data_dir, name), model, tokenizer, info)
    return built


def _save(target: Path, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
          info: dict) -> Path:
    with atomic_path(target) as staged:
        model.save_pretrained(staged)
        tokenizer.save_pretrained(staged)
        (staged / "xstilts.json").write_text(json.dumps(info, indent=2) + "\n",
                                             encoding="utf-8")
    return target
