"""Gold labels of the canonical test tables, in the leaderboard layout.

The XTREME download replaces test labels with placeholders; the hub copies keep them. This
module writes ``<task>/test-<lang>.<ext>`` gold files from the canonical tables, so any
prediction folder can be scored with ``xstilts score`` (and the evaluation stage writes its
predictions with the same ``write_task_file``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from xstilts.data.fetch import read_manifest, read_table
from xstilts.errors import UserError
from xstilts.evaluation.leaderboard import write_task_file
from xstilts.tasks.catalogue import get_task
from xstilts.tasks.languages import TASK2LANGS


def squad_data(table: pa.Table) -> list[dict]:
    """SQuAD ``data`` list (one article per question) from a span-QA table."""
    return squad_articles(table.to_pydict())


def squad_articles(rows: dict[str, list]) -> list[dict]:
    """SQuAD ``data`` list from span-QA columns."""
    articles: list[dict] = []
    for i, qid in enumerate(rows["id"]):
        answers = rows["answers"][i]
        articles.append({"title": rows["title"][i], "paragraphs": [{
            "context": rows["context"][i],
            "qas": [{"id": qid, "question": rows["question"][i],
                     "answers": [{"text": t, "answer_start": s}
                                 for t, s in zip(answers["text"], answers["answer_start"])]}],
        }]})
    return articles


def tatoeba_gold(table: pa.Table) -> list[int]:
    """For each English sentence (query, en→xx), the index of its translation."""
    rows = table.to_pydict()
    sources = [i for i, side in enumerate(rows["side"]) if side == "source"]
    position = {rows["gold_id"][i]: n for n, i in enumerate(sources)}
    targets = [rows["id"][i] for i, side in enumerate(rows["side"]) if side == "target"]
    return [position.get(t, -1) for t in targets]


def bucc_gold(table: pa.Table) -> list[str]:
    rows = table.to_pydict()
    return [f"{i}\t{g}" for i, g in zip(rows["id"], rows["gold_id"]) if g is not None]


def _labels(table: pa.Table) -> list:
    return table.column("label").to_pylist()


def _tags(table: pa.Table) -> list[list[str]]:
    return table.column("tags").to_pylist()


def _ranked_gold(table: pa.Table) -> dict[str, list[str]]:
    rows = table.to_pydict()
    return dict(zip(rows["id"], rows["gold_ids"]))


GOLD: dict[str, Callable[[pa.Table], Any]] = {
    "xnli": _labels, "pawsx": _labels, "xcopa": _labels,
    "udpos": _tags, "panx": _tags,
    "xquad": squad_data, "mlqa": squad_data, "tydiqa": squad_data,
    "bucc2018": bucc_gold, "tatoeba": tatoeba_gold,
    "mewslix": _ranked_gold, "lareqa": _ranked_gold,
}


def export_labels(data_dir: Path, benchmark: str, out: Path,
                  tasks: list[str] | None = None) -> list[Path]:
    """Write gold label files for the benchmark's tasks (all by default) into ``out``."""
    if benchmark not in TASK2LANGS:
        raise UserError(f"unknown benchmark '{benchmark}'; choose one of: "
                        f"{', '.join(TASK2LANGS)}")
    names = tasks or list(TASK2LANGS[benchmark])
    manifest = read_manifest(data_dir)
    written = []
    for name in names:
        task = get_task(name)
        if task.role != "target" or benchmark not in task.languages:
            raise UserError(f"'{name}' is not a {benchmark} target task")
        languages = task.languages[benchmark] or task.all_languages()
        for lang in languages:
            table = read_table(data_dir, name, lang, "test", manifest)
            written.append(write_task_file(out, name, lang, GOLD[name](table), "labels"))
    return written
