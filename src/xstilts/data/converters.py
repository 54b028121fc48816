"""Converters from source rows (hub schema, or the original files) to canonical tables.

Each reader takes the unit being built and its inputs, one per source: a
``datasets.Dataset`` already restricted by the source's ``select``, or the folder that holds
an original download or user-supplied files. Readers check the fields they need and fail
with a message naming the source, the missing fields and the fields they expect, so a
change in a hub schema is caught at fetch time rather than in training.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from xstilts.data.schemas import table
from xstilts.errors import UserError
from xstilts.tasks.catalogue import NER_TAGS, NLI_LABELS, UPOS_TAGS
from xstilts.tasks.languages import TATOEBA_ISO3
from xstilts.tasks.sources import Source, Unit

Input = tuple[Source, Any]  # (source, datasets.Dataset | Path)
Reader = Callable[[Unit, Sequence[Input]], pa.Table]

READERS: dict[str, Reader] = {}


def reader(name: str) -> Callable[[Reader], Reader]:
    def register(func: Reader) -> Reader:
        READERS[name] = func
        return func
    return register


def convert(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """Build the canonical table of one unit from its loaded sources."""
    return READERS[unit.reader](unit, inputs)


# --------------------------------------------------------------------------- helpers

def _columns(unit: Unit, source: Source, ds: Any, fields: Sequence[str],
             optional: Sequence[str] = ()) -> dict[str, list]:
    """The named columns of a hub split, or a clear error naming what is missing."""
    missing = [f for f in fields if f not in ds.column_names]
    if missing:
        raise UserError(
            f"{source.label()} has no field(s) {', '.join(missing)} "
            f"(it has: {', '.join(ds.column_names)}); the '{unit.reader}' converter for "
            f"{unit.key} expects fields: {', '.join([*fields, *optional])}")
    wanted = [f for f in [*fields, *optional] if f in ds.column_names]
    return ds.select_columns(wanted).to_dict()


def _label_names(ds: Any, field: str) -> list[str] | None:
    """ClassLabel names of a (sequence of) class-label field, or None for plain values."""
    feature = ds.features[field]
    feature = getattr(feature, "feature", feature)  # Sequence/List of ClassLabel
    return list(feature.names) if hasattr(feature, "names") else None


def _bad_label(unit: Unit, source: Source, value: object, allowed: Sequence[str]) -> UserError:
    return UserError(f"{source.label()}: label {value!r} is outside the label set of "
                     f"{unit.corpus} ({', '.join(map(str, allowed))})")


def _concat(unit: Unit, inputs: Sequence[Input], one: Callable[[Source, Any], pa.Table]
            ) -> pa.Table:
    """Read each source; with several sources, add a ``member`` column naming each row's."""
    tables = [one(source, data) for source, data in inputs]
    if len(tables) == 1:
        return tables[0]
    labelled = [t.append_column("member", pa.array([s.label()] * t.num_rows, pa.string()))
                for (s, _), t in zip(inputs, tables)]
    return pa.concat_tables(labelled)


def _ids(cols: dict[str, list], key: str | None, n: int, prefix: str) -> list[str]:
    if key and key in cols:
        return [str(v) for v in cols[key]]
    return [f"{prefix}-{i}" for i in range(n)]


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _require_files(source: Source, folder: Path, files: Sequence[str]) -> list[Path]:
    paths = [folder / f for f in files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        hint = getattr(source, "instructions", "")
        raise UserError(f"missing {', '.join(missing)}. {hint}".strip())
    return paths


# --------------------------------------------------------------------------- classification

def _classification(unit: Unit, source: Source, ids: list[str], a: list, b: list,
                    labels: list[str], allowed: Sequence[str]) -> pa.Table:
    bad = next((lab for lab in labels if lab not in allowed), None)
    if bad is not None:
        raise _bad_label(unit, source, bad, allowed)
    return table("pair_classification",
                 {"id": ids, "text_a": a, "text_b": b, "label": labels})


def _class_label_rows(unit: Unit, source: Source, ds: Any, a: str, b: str, names: Sequence[str],
                      id_field: str | None) -> pa.Table:
    """Pair classification from integer class labels; rows labelled -1 (no gold) dropped."""
    cols = _columns(unit, source, ds, [a, b, "label"], [id_field] if id_field else [])
    ids = _ids(cols, id_field, len(cols[a]), unit.corpus)
    if id_field == "idx":  # GLUE indices restart in every split and corpus
        ids = [f"{unit.corpus}-{i}" for i in ids]
    keep = [i for i, lab in enumerate(cols["label"]) if lab is not None and lab >= 0]
    bad = next((cols["label"][i] for i in keep if cols["label"][i] >= len(names)), None)
    if bad is not None:
        raise _bad_label(unit, source, bad, range(len(names)))
    return _classification(unit, source, [ids[i] for i in keep], [cols[a][i] for i in keep],
                           [cols[b][i] for i in keep],
                           [names[cols["label"][i]] for i in keep], names)


@reader("glue_nli")
def read_nli(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """MNLI, SNLI and ANLI: premise, hypothesis, label in entailment/neutral/contradiction."""
    def one(source: Source, ds: Any) -> pa.Table:
        names = _label_names(ds, "label") if "label" in ds.column_names else None
        if names is not None and list(names) != list(NLI_LABELS):
            raise UserError(f"{source.label()}: label names {names} differ from "
                            f"{list(NLI_LABELS)}; refusing to guess the mapping")
        id_field = "uid" if "uid" in ds.column_names else "idx"
        return _class_label_rows(unit, source, ds, "premise", "hypothesis", NLI_LABELS, id_field)
    return _concat(unit, inputs, one)


@reader("qqp")
def read_qqp(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """QQP: question1, question2, label 0 = not duplicate, 1 = duplicate."""
    def one(source: Source, ds: Any) -> pa.Table:
        names = _label_names(ds, "label") if "label" in ds.column_names else None
        if names is not None and list(names) != ["not_duplicate", "duplicate"]:
            raise UserError(f"{source.label()}: label names {names} differ from "
                            "['not_duplicate', 'duplicate']; refusing to guess the mapping")
        return _class_label_rows(unit, source, ds, "question1", "question2", ("0", "1"), "idx")
    return _concat(unit, inputs, one)


@reader("xnli")
def read_xnli(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """google/xtreme XNLI: string gold_label; one config for every language."""
    def one(source: Source, ds: Any) -> pa.Table:
        cols = _columns(unit, source, ds, ["sentence1", "sentence2", "gold_label"])
        n = len(cols["sentence1"])
        return _classification(unit, source, [f"xnli-{unit.language}-{i}" for i in range(n)],
                               cols["sentence1"], cols["sentence2"],
                               [str(v).strip() for v in cols["gold_label"]], NLI_LABELS)
    return _concat(unit, inputs, one)


@reader("pawsx")
def read_pawsx(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """PAWS-X: labels are strings '0'/'1' on the hub (integers accepted too)."""
    def one(source: Source, ds: Any) -> pa.Table:
        cols = _columns(unit, source, ds, ["sentence1", "sentence2", "label"], ["id"])
        n = len(cols["sentence1"])
        return _classification(unit, source, _ids(cols, "id", n, f"pawsx-{unit.language}"),
                               cols["sentence1"], cols["sentence2"],
                               [str(v).strip() for v in cols["label"]], ("0", "1"))
    return _concat(unit, inputs, one)


# --------------------------------------------------------------------------- tagging

def _tagging(unit: Unit, source: Source, ds: Any, tag_field: str,
             allowed: Sequence[str]) -> pa.Table:
    cols = _columns(unit, source, ds, ["tokens", tag_field])
    names = _label_names(ds, tag_field)
    if names is not None:
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise UserError(f"{source.label()}: tag names {unknown} are not in the label set "
                            f"of {unit.corpus}")
        tags = [[names[t] for t in seq] for seq in cols[tag_field]]
    else:
        tags = [[str(t) for t in seq] for seq in cols[tag_field]]
        for seq in tags:
            bad = next((t for t in seq if t not in allowed), None)
            if bad is not None:
                raise _bad_label(unit, source, bad, allowed)
    for i, (tok, tag) in enumerate(zip(cols["tokens"], tags)):
        if len(tok) != len(tag):
            raise UserError(f"{source.label()}: row {i} has {len(tok)} tokens but "
                            f"{len(tag)} tags")
    n = len(tags)
    return table("tagging", {"id": [f"{unit.corpus}-{unit.language}-{i}" for i in range(n)],
                             "tokens": cols["tokens"], "tags": tags})


@reader("udpos")
def read_udpos(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """UD POS: tokens + pos_tags (class labels named by the 17 UPOS tags)."""
    return _concat(unit, inputs, lambda s, ds: _tagging(unit, s, ds, "pos_tags", UPOS_TAGS))


@reader("panx")
def read_panx(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """PAN-X / WikiANN: tokens + ner_tags (IOB2 class labels)."""
    return _concat(unit, inputs, lambda s, ds: _tagging(unit, s, ds, "ner_tags", NER_TAGS))


@reader("ccg_tsv")
def read_ccg(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """jiant's CCG layout: space-separated tokens, a tab, space-separated supertags."""
    source, folder = inputs[0]
    (path,) = _require_files(source, folder, source.files)
    ids, tokens, tags = [], [], []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        toks, tgs = (parts[0].split(), parts[1].split()) if len(parts) == 2 else ([], [])
        if not toks or len(toks) != len(tgs):
            raise UserError(f"{path}:{number}: expected 'tokens<TAB>tags' with one tag per "
                            "token")
        ids.append(f"ccg-{len(ids)}")
        tokens.append(toks)
        tags.append(tgs)
    return table("tagging", {"id": ids, "tokens": tokens, "tags": tags})


# --------------------------------------------------------------------------- QA

@reader("squad")
def read_squad(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """SQuAD layout (SQuAD, XQuAD, MLQA, TyDiQA-GoldP); answers must lie in their contexts."""
    def one(source: Source, ds: Any) -> pa.Table:
        cols = _columns(unit, source, ds, ["id", "context", "question", "answers"], ["title"])
        n = len(cols["id"])
        answers = []
        for i in range(n):
            ans = cols["answers"][i]
            texts, starts = list(ans["text"]), [int(s) for s in ans["answer_start"]]
            context = cols["context"][i]
            for text, start in zip(texts, starts):
                if context[start:start + len(text)] != text:
                    raise UserError(f"{source.label()}: answer {text!r} of question "
                                    f"{cols['id'][i]} is not at offset {start} of its context")
            answers.append({"text": texts, "answer_start": starts})
        return table("span_qa", {"id": [str(x) for x in cols["id"]],
                                 "title": cols.get("title", [""] * n),
                                 "context": cols["context"], "question": cols["question"],
                                 "answers": answers})
    return _concat(unit, inputs, one)


# --------------------------------------------------------------------------- multiple choice

def _choice_table(unit: Unit, source: Source, ids: list[str], contexts: list[str],
                  questions: list[str], choices: list[list[str]], labels: list[int]
                  ) -> pa.Table:
    """Multiple choice; rows without a gold label (-1) are dropped."""
    keep = [i for i, lab in enumerate(labels) if lab >= 0]
    for i in keep:
        if labels[i] >= len(choices[i]):
            raise _bad_label(unit, source, labels[i], range(len(choices[i])))
    return table("multiple_choice", {
        "id": [ids[i] for i in keep], "context": [contexts[i] for i in keep],
        "question": [questions[i] for i in keep], "choices": [choices[i] for i in keep],
        "label": [labels[i] for i in keep]})


def _int_label(value: object, offset: int = 0) -> int:
    """Integer label from an int or a numeric string; '' or None (no gold) gives -1."""
    text = str(value).strip() if value is not None else ""
    return int(text) - offset if text.lstrip("-").isdigit() else -1


@reader("hellaswag")
def read_hellaswag(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """HellaSwag: ctx, endings, label as a string."""
    def one(source: Source, ds: Any) -> pa.Table:
        cols = _columns(unit, source, ds, ["ctx", "endings", "label"], ["ind"])
        n = len(cols["ctx"])
        return _choice_table(unit, source, _ids(cols, "ind", n, "hellaswag"), cols["ctx"],
                             [""] * n, [list(e) for e in cols["endings"]],
                             [_int_label(v) for v in cols["label"]])
    return _concat(unit, inputs, one)


@reader("cosmos_qa")
def read_cosmos(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """Cosmos QA: context, question, answer0..answer3, integer label."""
    def one(source: Source, ds: Any) -> pa.Table:
        answers = [f"answer{i}" for i in range(4)]
        cols = _columns(unit, source, ds, ["context", "question", *answers, "label"], ["id"])
        n = len(cols["context"])
        return _choice_table(unit, source, _ids(cols, "id", n, "cosmos_qa"), cols["context"],
                             cols["question"],
                             [[cols[a][i] for a in answers] for i in range(n)],
                             [_int_label(v) for v in cols["label"]])
    return _concat(unit, inputs, one)


@reader("commonsense_qa")
def read_commonsense_qa(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """CommonsenseQA: question, choices {label, text}, answerKey letter ('' on test)."""
    def one(source: Source, ds: Any) -> pa.Table:
        cols = _columns(unit, source, ds, ["question", "choices", "answerKey"], ["id"])
        n = len(cols["question"])
        labels = []
        for choice, key in zip(cols["choices"], cols["answerKey"]):
            letters = list(choice["label"])
            labels.append(letters.index(key) if key in letters else -1)
        return _choice_table(unit, source, _ids(cols, "id", n, "commonsense_qa"), [""] * n,
                             cols["question"], [list(c["text"]) for c in cols["choices"]],
                             labels)
    return _concat(unit, inputs, one)


def _copa_like(unit: Unit, source: Source, ds: Any) -> pa.Table:
    cols = _columns(unit, source, ds, ["premise", "choice1", "choice2", "question", "label"],
                    ["idx"])
    n = len(cols["premise"])
    return _choice_table(unit, source, _ids(cols, "idx", n, f"{unit.corpus}-{unit.language}"),
                         cols["premise"], cols["question"],
                         [[cols["choice1"][i], cols["choice2"][i]] for i in range(n)],
                         [_int_label(v) for v in cols["label"]])


@reader("xcopa")
def read_xcopa(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """XCOPA: premise, choice1, choice2, question (cause/effect), label 0/1."""
    return _concat(unit, inputs, lambda s, ds: _copa_like(unit, s, ds))


@reader("copa")
def read_copa(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """English COPA (SuperGLUE): same fields as XCOPA."""
    return _concat(unit, inputs, lambda s, ds: _copa_like(unit, s, ds))


@reader("siqa")
def read_siqa(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """Social IQa: context, question, answerA..C, label '1'..'3' (1-based string)."""
    def one(source: Source, ds: Any) -> pa.Table:
        answers = ["answerA", "answerB", "answerC"]
        cols = _columns(unit, source, ds, ["context", "question", *answers, "label"])
        n = len(cols["context"])
        return _choice_table(unit, source, [f"siqa-{i}" for i in range(n)], cols["context"],
                             cols["question"],
                             [[cols[a][i] for a in answers] for i in range(n)],
                             [_int_label(v, offset=1) for v in cols["label"]])
    return _concat(unit, inputs, one)


# --------------------------------------------------------------------------- bitext retrieval

def _bitext(src_ids: list[str], src: list[str], tgt_ids: list[str], tgt: list[str],
            gold: dict[str, str]) -> pa.Table:
    return table("bitext_retrieval", {
        "id": src_ids + tgt_ids,
        "side": ["source"] * len(src_ids) + ["target"] * len(tgt_ids),
        "text": src + tgt,
        "gold_id": [gold.get(i) for i in src_ids] + [None] * len(tgt_ids)})


@reader("tatoeba")
def read_tatoeba(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """Tatoeba: aligned pairs (gold = same row). Hub rows or LASER's two aligned files."""
    source, data = inputs[0]
    if isinstance(data, Path):
        iso3 = TATOEBA_ISO3[unit.language]
        src_path, tgt_path = _require_files(source, data, source.files)
        src, tgt = _read_lines(src_path), _read_lines(tgt_path)
        if len(src) != len(tgt):
            raise UserError(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}; "
                            f"tatoeba.{iso3}-eng files must be line-aligned")
    else:
        cols = _columns(unit, source, data, ["source_sentence", "target_sentence"])
        src = [s.strip() for s in cols["source_sentence"]]
        tgt = [t.strip() for t in cols["target_sentence"]]
    n = len(src)
    src_ids = [f"{unit.language}-{i:06d}" for i in range(n)]
    tgt_ids = [f"en-{i:06d}" for i in range(n)]
    return _bitext(src_ids, src, tgt_ids, tgt, dict(zip(src_ids, tgt_ids)))


def _id_sentences(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.split("\t", 1)
        if len(parts) != 2 or not parts[0]:
            raise UserError(f"{path}:{number}: expected '<sentence id><TAB><sentence>'")
        ids.append(parts[0])
        texts.append(parts[1].strip())
    return ids, texts


@reader("bucc_original")
def read_bucc(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """BUCC 2018 original release: <l>-en.<part>.{<l>,en,gold}, 'id<TAB>text' lines."""
    source, folder = inputs[0]
    src_path, tgt_path, gold_path = _require_files(source, folder, source.files)
    src_ids, src = _id_sentences(src_path)
    tgt_ids, tgt = _id_sentences(tgt_path)
    known_src, known_tgt = set(src_ids), set(tgt_ids)
    gold: dict[str, str] = {}
    for number, line in enumerate(_read_lines(gold_path), start=1):
        parts = line.split("\t")
        if len(parts) != 2 or parts[0] not in known_src or parts[1] not in known_tgt:
            raise UserError(f"{gold_path}:{number}: expected '<{unit.language} id><TAB><en id>' "
                            "naming sentences of the corpus files")
        gold[parts[0]] = parts[1]
    return _bitext(src_ids, src, tgt_ids, tgt, gold)


# --------------------------------------------------------------------------- Mewsli-X

def _jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{number}: malformed JSON ({exc.msg})") from None
    return rows


def _field(path: Path, row: dict, *keys: str) -> Any:
    value: Any = row
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise UserError(f"{path}: a record lacks field {'.'.join(keys)}")
        value = value[key]
    return value


@reader("mewslix")
def read_mewslix(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """Mewsli-X release files (google-research get-mewsli-x.sh output)."""
    source, folder = inputs[0]
    (path,) = _require_files(source, folder, source.files)
    rows = _jsonl(path)
    if unit.split == "train_candidates":  # the entity of each training pair, once each
        entities = {}
        for r in rows:
            entity = _field(path, r, "entity")
            entities.setdefault(_field(path, entity, "entity_id"), entity)
        rows = list(entities.values())
    if unit.split in ("candidates", "train_candidates"):
        return table("entity_candidates", {
            "id": [_field(path, r, "entity_id") for r in rows],
            "language": [_field(path, r, "description_language") for r in rows],
            "title": [_field(path, r, "title") for r in rows],
            "text": [_field(path, r, "description") for r in rows]})
    mentions: list[tuple[dict, dict]] = []
    if unit.split == "train":  # wikipedia_pairs: one mention-entity pair per line
        for r in rows:
            cm = _field(path, r, "contextual_mention")
            mentions.append((_field(path, cm, "context"), _field(path, cm, "mention")))
    else:  # wikinews_mentions: one article per line with its mentions
        for r in rows:
            context = _field(path, r, "context")
            if _field(path, context, "language") == unit.language:
                mentions.extend((context, m) for m in _field(path, r, "mentions"))
    cols: dict[str, list] = {k: [] for k in ("id", "language", "context", "mention",
                                             "mention_start", "mention_end", "gold_ids")}
    for context, mention in mentions:
        text = _field(path, context, "text")
        span = _field(path, mention, "mention_span")
        if not text:
            raise UserError(f"{path}: article text is empty; run get-mewsli-x.sh to the end "
                            "(it restores the WikiNews text) and use wikinews_mentions-*.jsonl")
        cols["id"].append(_field(path, mention, "example_id"))
        cols["language"].append(_field(path, context, "language"))
        cols["context"].append(text)
        cols["mention"].append(span["text"])
        cols["mention_start"].append(int(span["start"]))
        cols["mention_end"].append(int(span["end"]))
        cols["gold_ids"].append([_field(path, mention, "entity_id")])
    return table("entity_queries", cols)


# --------------------------------------------------------------------------- LAReQA

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？।])\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a context (split after . ! ? 。 ！ ？ ।)."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@reader("lareqa")
def read_lareqa(unit: Unit, inputs: Sequence[Input]) -> pa.Table:
    """LAReQA over XQuAD-R: candidates are context sentences in every language; a question's
    gold answers are the sentences holding its answer in each language."""
    sentences: dict[str, list[tuple[str, str, str]]] = {}  # lang -> [(id, text, context)]
    answer_sentence: dict[tuple[str, str], str] = {}  # (question id, lang) -> sentence id
    questions: dict[str, list[tuple[str, str]]] = {}  # lang -> [(question id, text)]
    for source, ds in inputs:
        lang = source.config or ""
        cols = _columns(unit, source, ds, ["id", "context", "question", "answers"])
        context_ids: dict[str, int] = {}
        rows = sentences.setdefault(lang, [])
        for qid, context, question, answers in zip(cols["id"], cols["context"],
                                                   cols["question"], cols["answers"]):
            spans = sentence_spans(context)
            if context not in context_ids:
                context_ids[context] = len(context_ids)
                rows.extend((f"{lang}-{context_ids[context]}-{j}", context[s:e], context)
                            for j, (s, e) in enumerate(spans))
            start = int(answers["answer_start"][0]) if answers["answer_start"] else -1
            j = next((j for j, (s, e) in enumerate(spans) if s <= start < e), None)
            if j is None:
                raise UserError(f"{source.label()}: question {qid} has no answer inside its "
                                "context")
            answer_sentence[(str(qid), lang)] = f"{lang}-{context_ids[context]}-{j}"
            questions.setdefault(lang, []).append((str(qid), question))
    if unit.split == "candidates":
        flat = [(lang, *row) for lang, rows in sentences.items() for row in rows]
        return table("answer_candidates", {
            "id": [r[1] for r in flat], "language": [r[0] for r in flat],
            "text": [r[2] for r in flat], "context": [r[3] for r in flat]})
    langs = list(sentences)
    own = questions.get(unit.language, [])
    return table("answer_queries", {
        "id": [f"{unit.language}-{qid}" for qid, _ in own],
        "language": [unit.language] * len(own),
        "question": [q for _, q in own],
        "gold_ids": [[answer_sentence[(qid, lang)] for lang in langs
                      if (qid, lang) in answer_sentence] for qid, _ in own]})
