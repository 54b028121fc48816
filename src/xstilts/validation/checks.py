"""What the data gate checks, derived from the task catalogue; no Great Expectations here.

The canonical tables of one (corpus, split) are validated together, as one frame with a
``table_language`` column, so a whole data folder takes a few dozen validation runs instead
of hundreds. Properties that Great Expectations cannot see on list columns (empty token lists,
token/tag length agreement, answers at their offsets) are precomputed as scalar columns and
checked there, as its own documentation advises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from xstilts.data.schemas import SCHEMAS
from xstilts.errors import UserError
from xstilts.tasks.catalogue import CATALOGUE, UNITS, Task, corpora_for, resolve_tasks
from xstilts.data.fetch import DataFolder

LANGUAGE = "table_language"  # the language of the table a row came from
# Row-count bounds per table. Real benchmark tables are far larger than the floors; the
# smallest real evaluation table (UD Tagalog test) has 55 sentences. The synthetic stand-in
# writes at least 45 rows per evaluation table and 138 per training or candidate table.
MIN_TRAIN_ROWS = 100
MIN_EVAL_ROWS = 20
MAX_ROWS = 10_000_000
# An example counts as shared between train and evaluation only when its text is at least
# this long (and, for tagging, has this many tokens): short sentences ("Thank you .") and
# entity lists ("Acme Corp , Paris") legitimately recur across real splits. Real splits
# still share a few generic sentences, so up to SHARED_TOLERANCE of a split's examples may
# recur; a leaked or mixed-up split shares far more.
MIN_SHARED_CHARS = 25
MIN_SHARED_TOKENS = 5
SHARED_TOLERANCE = 0.01


@dataclass(frozen=True)
class Check:
    """One expectation: a Great Expectations class name, its arguments, and what it means."""

    expectation: str
    kwargs: dict[str, Any]
    meaning: str


@dataclass
class TableGroup:
    """The tables of one (corpus, split), validated as one frame."""

    corpus: str
    split: str
    schema: str
    tasks: tuple[str, ...]
    languages: tuple[str, ...]  # every language the catalogue lists for this split
    present: tuple[str, ...] = ()  # the languages the data folder holds
    labels: tuple[str, ...] | None = None
    num_choices: int | None = None
    answerable: bool = True
    train_corpora: tuple[str, ...] = ()  # whose English train examples must not reappear
    checks: list[Check] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # language -> why
    missing_columns: dict[str, list[str]] = field(default_factory=dict)  # language -> names

    @property
    def name(self) -> str:
        return f"{self.corpus}.{self.split}"


TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "pair_classification": ("text_a", "text_b"),
    "tagging": (),
    "span_qa": ("context", "question"),
    "multiple_choice": (),
    "bitext_retrieval": ("text",),
    "entity_queries": ("context", "mention"),
    "entity_candidates": ("title",),
    "answer_queries": ("question",),
    "answer_candidates": ("text",),
}


def _schema(task: Task, split: str) -> str:
    if task.type == "entity_retrieval":
        return "entity_candidates" if split.endswith("candidates") else "entity_queries"
    if task.type == "answer_retrieval":
        return "answer_candidates" if split.endswith("candidates") else "answer_queries"
    return task.type


def _owner(corpus: str) -> Task:
    """The task that defines a corpus's type and labels: the task of the same name, else
    the first target that trains on it (Social IQa and COPA for XCOPA)."""
    if corpus in CATALOGUE and CATALOGUE[corpus].type != "mixture":
        return CATALOGUE[corpus]
    return next(t for t in CATALOGUE.values() if corpus in t.train_corpora)


def corpus_tasks(corpus: str) -> tuple[str, ...]:
    """Every task whose data includes ``corpus``."""
    return tuple(t.name for t in CATALOGUE.values()
                 if t.type != "mixture" and corpus in corpora_for(t))


def plan(data: DataFolder, task_names: Iterable[str] | None = None) -> list[TableGroup]:
    """The table groups to validate: those the named tasks need, or every corpus the data
    folder holds."""
    held = {u["corpus"] for u in data.manifest["units"]}
    if task_names is None:
        corpora = [c for c in UNITS if c in held]
    else:
        corpora = list(dict.fromkeys(c for t in resolve_tasks(task_names)
                                     for c in corpora_for(t)))
    groups = []
    for corpus in corpora:
        owner = _owner(corpus)
        splits: dict[str, list[str]] = {}
        for unit in UNITS[corpus]:
            splits.setdefault(unit.split, []).append(unit.language)
        for split, languages in splits.items():
            schema = _schema(owner, split)
            group = TableGroup(
                corpus=corpus, split=split, schema=schema, tasks=corpus_tasks(corpus),
                languages=tuple(languages),
                present=tuple(lang for lang in languages if data.has(corpus, lang, split)),
                labels=owner.labels if schema in ("pair_classification", "tagging") else None,
                num_choices=owner.num_choices if owner.name == corpus else None,
                answerable=corpus != "squad_v2",
                train_corpora=_train_corpora(corpus, split, data))
            group.checks = checks(group)
            groups.append(group)
    return groups


def _train_corpora(corpus: str, split: str, data: DataFolder) -> tuple[str, ...]:
    if split == "train" or split.endswith("candidates"):
        return ()
    names = [corpus]
    if corpus in CATALOGUE and CATALOGUE[corpus].role == "target":
        names += CATALOGUE[corpus].train_corpora
    return tuple(n for n in dict.fromkeys(names) if data.has(n, "en", "train"))


# --------------------------------------------------------------------------- frames

def frame(group: TableGroup, data: DataFolder,
          train_keys: dict[tuple[str, str], frozenset[str]] | None = None) -> pd.DataFrame:
    """All tables of the group as one frame, with the precomputed check columns.
    ``train_keys`` caches each train table's example keys across the groups of one
    validation (every evaluation split of a corpus compares against the same train set)."""
    parts = []
    for language in group.present:
        try:
            table = data.table(group.corpus, language, group.split).to_pandas()
        except (UserError, OSError, pa.ArrowException) as exc:
            group.unreadable[language] = str(exc)
            continue
        missing = [c for c in required_columns(group) if c not in table.columns]
        if missing:
            group.missing_columns[language] = missing
        table.insert(0, LANGUAGE, language)
        table["table_rows"] = len(table)
        parts.append(table)
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({LANGUAGE: []})
    derive = _DERIVED.get(group.schema)
    if derive is not None and len(df):
        derive(df)
    if group.train_corpora and len(df):
        cache = {} if train_keys is None else train_keys
        seen: set[str] = set()
        for corpus in group.train_corpora:
            if (corpus, group.schema) not in cache:
                try:
                    train = data.table(corpus, "en", "train").to_pandas()
                except (UserError, OSError, pa.ArrowException):
                    continue  # reported by the train table's own group
                cache[corpus, group.schema] = frozenset(
                    k for k in _example_keys(group.schema, train) if k is not None)
            seen |= cache[corpus, group.schema]
        df["in_train"] = [k is not None and k in seen for k in _example_keys(group.schema, df)]
    return df


def tag_frame(group: TableGroup, df: pd.DataFrame) -> pd.DataFrame:
    """One row per tag (language, id, tag), for the label-set checks of tagging tables."""
    if "tags" not in df.columns or not len(df):
        return pd.DataFrame({LANGUAGE: [], "id": [], "tag": []})
    tags = df[[LANGUAGE, "id", "tags"]].explode("tags").dropna(subset=["tags"])
    return tags.rename(columns={"tags": "tag"}).reset_index(drop=True)


def _lengths(values: pd.Series) -> list[int]:
    return [len(v) if v is not None else 0 for v in values]


def _derive_tagging(df: pd.DataFrame) -> None:
    if "tokens" in df.columns:
        df["n_tokens"] = _lengths(df["tokens"])
    if "tokens" in df.columns and "tags" in df.columns:
        df["tags_aligned"] = [n == m for n, m in zip(df["n_tokens"], _lengths(df["tags"]))]


def _derive_span_qa(df: pd.DataFrame) -> None:
    if "answers" not in df.columns or "context" not in df.columns:
        return
    found, counts = [], []
    for context, answers in zip(df["context"], df["answers"]):
        texts = list(answers["text"]) if answers is not None else []
        starts = list(answers["answer_start"]) if answers is not None else []
        counts.append(len(texts))
        found.append(len(texts) == len(starts) and all(
            bool(t) and context is not None and context[s:s + len(t)] == t
            for t, s in zip(texts, starts)))
    df["n_answers"] = counts
    df["answers_at_offsets"] = found


def _derive_multiple_choice(df: pd.DataFrame) -> None:
    if "choices" not in df.columns:
        return
    df["n_choices"] = _lengths(df["choices"])
    df["choices_non_empty"] = [c is not None and all(str(x).strip() for x in c)
                               for c in df["choices"]]
    if "label" in df.columns:
        df["label_in_range"] = [label is not None and 0 <= label < n
                                for label, n in zip(df["label"], df["n_choices"])]
    if "context" in df.columns and "question" in df.columns:
        df["prompt_chars"] = [len((c or "").strip()) + len((q or "").strip())
                              for c, q in zip(df["context"], df["question"])]


def _derive_bitext(df: pd.DataFrame) -> None:
    if not {"side", "gold_id", "id"} <= set(df.columns):
        return
    targets = set(zip(df.loc[df["side"] == "target", LANGUAGE],
                      df.loc[df["side"] == "target", "id"]))
    df["gold_known"] = [pd.isna(g) or (lang, g) in targets
                        for lang, g in zip(df[LANGUAGE], df["gold_id"])]


def _derive_entity_queries(df: pd.DataFrame) -> None:
    if {"context", "mention", "mention_start", "mention_end"} <= set(df.columns):
        df["mention_at_offsets"] = [
            bool(m) and c is not None and c[s:e] == m
            for c, m, s, e in zip(df["context"], df["mention"], df["mention_start"],
                                  df["mention_end"])]
    if "gold_ids" in df.columns:
        df["n_gold"] = _lengths(df["gold_ids"])


def _derive_answer_queries(df: pd.DataFrame) -> None:
    if "gold_ids" in df.columns:
        df["n_gold"] = _lengths(df["gold_ids"])


_DERIVED = {
    "tagging": _derive_tagging,
    "span_qa": _derive_span_qa,
    "multiple_choice": _derive_multiple_choice,
    "bitext_retrieval": _derive_bitext,
    "entity_queries": _derive_entity_queries,
    "answer_queries": _derive_answer_queries,
}


def _as_text(value: object) -> str:
    """A cell as text: strings as they are, lists joined, missing values empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return " ".join(map(str, value))
    return ""


def _example_keys(schema: str, df: pd.DataFrame) -> list[str | None]:
    """The text that identifies an example, for the train/evaluation overlap check (None
    where the example is too short to count, or a column is missing)."""
    columns = {"pair_classification": ("text_a", "text_b"), "tagging": ("tokens",),
               "span_qa": ("question", "context"),
               "multiple_choice": ("context", "question", "choices"),
               "entity_queries": ("context", "mention")}.get(schema)
    if columns is None or not set(columns) <= set(df.columns):
        return [None] * len(df)
    keys: list[str | None] = []
    for values in zip(*(df[c] for c in columns)):
        if schema == "tagging" and (values[0] is None or len(values[0]) < MIN_SHARED_TOKENS):
            keys.append(None)
            continue
        text = "\t".join(_as_text(v) for v in values)
        keys.append(text if len(text.strip()) >= MIN_SHARED_CHARS else None)
    return keys


# --------------------------------------------------------------------------- checks

def required_columns(group: TableGroup) -> list[str]:
    """The canonical schema's columns for the group's tables."""
    return SCHEMAS[group.schema].names


def checks(group: TableGroup) -> list[Check]:
    """The expectations of one table group, by task type."""
    out = [Check("ExpectColumnToExist", {"column": c}, f"required column '{c}' exists")
           for c in required_columns(group)]
    out.append(Check("ExpectColumnDistinctValuesToEqualSet",
                     {"column": LANGUAGE, "value_set": list(group.languages)},
                     "every language the catalogue lists has a table"))
    lower = MIN_TRAIN_ROWS if group.split in ("train", "train_candidates") else MIN_EVAL_ROWS
    out.append(Check("ExpectColumnValuesToBeBetween",
                     {"column": "table_rows", "min_value": lower, "max_value": MAX_ROWS},
                     f"each table has between {lower} and {MAX_ROWS} rows"))
    out.append(Check("ExpectColumnValuesToNotBeNull", {"column": "id"}, "every row has an id"))
    out.append(Check("ExpectCompoundColumnsToBeUnique", {"column_list": [LANGUAGE, "id"]},
                     "ids are unique within each table"))
    for column in TEXT_COLUMNS[group.schema]:
        out.append(Check("ExpectColumnValuesToNotBeNull", {"column": column},
                         f"'{column}' is never missing"))
        out.append(Check("ExpectColumnValuesToMatchRegex", {"column": column, "regex": r"\S"},
                         f"'{column}' is never empty or blank"))
    out.extend(_type_checks(group))
    if group.train_corpora:
        names = ", ".join(f"{c} train" for c in group.train_corpora)
        out.append(Check("ExpectColumnValuesToBeInSet",
                         {"column": "in_train", "value_set": [False],
                          "mostly": 1 - SHARED_TOLERANCE},
                         f"at most {SHARED_TOLERANCE:.0%} of examples also appear in {names}"))
    return out


def _type_checks(group: TableGroup) -> list[Check]:
    s, train = group.schema, group.split == "train"
    out: list[Check] = []

    def true(column: str, meaning: str) -> None:
        out.append(Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": [True]},
                         meaning))

    def at_least(column: str, low: int, meaning: str) -> None:
        out.append(Check("ExpectColumnValuesToBeBetween",
                         {"column": column, "min_value": low}, meaning))

    if s == "pair_classification" and group.labels:
        out.append(Check("ExpectColumnValuesToNotBeNull", {"column": "label"},
                         "every row has a label"))
        out.append(Check("ExpectColumnValuesToBeInSet",
                         {"column": "label", "value_set": list(group.labels)},
                         "labels are in the task's label set"))
        if train:
            out.append(Check("ExpectColumnDistinctValuesToEqualSet",
                             {"column": "label", "value_set": list(group.labels)},
                             "every label of the task occurs in train"))
    elif s == "tagging":
        at_least("n_tokens", 1, "every sentence has at least one token")
        true("tags_aligned", "every sentence has one tag per token")
    elif s == "span_qa":
        true("answers_at_offsets", "every answer is found in its context at its offset")
        if group.answerable:
            at_least("n_answers", 1, "every question has an answer")
    elif s == "multiple_choice":
        true("choices_non_empty", "no answer choice is empty")
        true("label_in_range", "the label indexes one of the choices")
        at_least("prompt_chars", 1, "context or question is non-empty")
        if group.num_choices:
            out.append(Check("ExpectColumnValuesToBeInSet",
                             {"column": "n_choices", "value_set": [group.num_choices]},
                             f"every question has {group.num_choices} choices"))
        if train and group.num_choices:
            out.append(Check("ExpectColumnDistinctValuesToEqualSet",
                             {"column": "label", "value_set": list(range(group.num_choices))},
                             "every label of the task occurs in train"))
    elif s == "bitext_retrieval":
        out.append(Check("ExpectColumnValuesToBeInSet",
                         {"column": "side", "value_set": ["source", "target"]},
                         "side is 'source' or 'target'"))
        true("gold_known", "every gold id names a target row of the same table")
    elif s == "entity_queries":
        true("mention_at_offsets", "every mention is found in its context at its offsets")
        at_least("n_gold", 1, "every mention links to a gold entity")
    elif s == "answer_queries":
        at_least("n_gold", 1, "every question has a gold answer")
    return out


def tag_checks(group: TableGroup) -> list[Check]:
    """Label-set checks on the exploded tags of a tagging group (none for CCG, whose
    supertag set is data-defined)."""
    if group.schema != "tagging" or not group.labels:
        return []
    out = [Check("ExpectColumnValuesToBeInSet", {"column": "tag",
                                                 "value_set": list(group.labels)},
                 "tags are in the task's tag set")]
    if group.split == "train":
        out.append(Check("ExpectColumnDistinctValuesToEqualSet",
                         {"column": "tag", "value_set": list(group.labels)},
                         "every tag of the task occurs in train"))
    return out
