"""Canonical table schemas, one per task type.

Every canonical table is one Parquet file per (corpus, language, split). Columns:

pair_classification  id, text_a, text_b, label (label name from the catalogue's label set)
tagging              id, tokens (list), tags (list, same length)
span_qa              id, title, context, question, answers {text: list, answer_start: list}
                     (SQuAD layout; answer_start is a character offset into context;
                     unanswerable SQuAD 2.0 questions have empty lists)
multiple_choice      id, context, question, choices (list), label (index into choices)
bitext_retrieval     id, side ("source" = non-English, "target" = English), text,
                     gold_id (on source rows: the aligned target id, or null)
entity_retrieval     queries: id, language, context, mention, mention_start, mention_end,
                     gold_ids (list of entity ids); candidates (the evaluation pool) and
                     train_candidates (the entities of the English training pairs):
                     id, language, title, text
answer_retrieval     queries: id, language, question, gold_ids (list of candidate ids);
                     candidates: id, language, text, context

Tables that merge several sources (ANLI+) add a ``member`` column naming each row's source.
"""

from __future__ import annotations

import pyarrow as pa

_ANSWERS = pa.struct([("text", pa.list_(pa.string())),
                      ("answer_start", pa.list_(pa.int32()))])

SCHEMAS: dict[str, pa.Schema] = {
    "pair_classification": pa.schema([
        ("id", pa.string()), ("text_a", pa.string()), ("text_b", pa.string()),
        ("label", pa.string())]),
    "tagging": pa.schema([
        ("id", pa.string()), ("tokens", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string()))]),
    "span_qa": pa.schema([
        ("id", pa.string()), ("title", pa.string()), ("context", pa.string()),
        ("question", pa.string()), ("answers", _ANSWERS)]),
    "multiple_choice": pa.schema([
        ("id", pa.string()), ("context", pa.string()), ("question", pa.string()),
        ("choices", pa.list_(pa.string())), ("label", pa.int64())]),
    "bitext_retrieval": pa.schema([
        ("id", pa.string()), ("side", pa.string()), ("text", pa.string()),
        ("gold_id", pa.string())]),
    "entity_queries": pa.schema([
        ("id", pa.string()), ("language", pa.string()), ("context", pa.string()),
        ("mention", pa.string()), ("mention_start", pa.int64()), ("mention_end", pa.int64()),
        ("gold_ids", pa.list_(pa.string()))]),
    "entity_candidates": pa.schema([
        ("id", pa.string()), ("language", pa.string()), ("title", pa.string()),
        ("text", pa.string())]),
    "answer_queries": pa.schema([
        ("id", pa.string()), ("language", pa.string()), ("question", pa.string()),
        ("gold_ids", pa.list_(pa.string()))]),
    "answer_candidates": pa.schema([
        ("id", pa.string()), ("language", pa.string()), ("text", pa.string()),
        ("context", pa.string())]),
}


def table(schema_name: str, columns: dict[str, list]) -> pa.Table:
    """Build a canonical table, enforcing the schema's column order and types."""
    schema = SCHEMAS[schema_name]
    return pa.table({name: pa.array(columns[name], type=schema.field(name).type)
                     for name in schema.names}, schema=schema)
