"""Score a leaderboard submission as the official XTREME/XTREME-R scorer does, and write one.

The folder layout, readers, metrics and output structure follow ``evaluate.py`` of
google-research/xtreme at commit 838c13b. There are two differences:

* Bad input raises ``UserError`` with one line that names the file, where the official
  scorer crashes with a traceback or asserts. Label sets are checked in both the label
  and the prediction files.
* LAReQA is scored. The official language list for ``lareqa`` is empty, so the official
  scorer never scores it and never produces ``all_task`` for XTREME-R. Here a ``lareqa/``
  folder in both folders is scored over ``LAREQA_LANGUAGES``, as mAP@20 under
  ``"map@20"``. LAReQA is in no group, and XTREME-R's ``all_task`` appears once all
  ten tasks, LAReQA included, are present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from xstilts.atomic import write_text
from xstilts.errors import UserError
from xstilts.evaluation.metrics import (
    accuracy,
    bucc_f1,
    map_at_k,
    mlqa_em_f1,
    mrr_at_k,
    seqeval_f1_flat,
    squad_em_f1,
)
from xstilts.tasks.catalogue import BINARY_LABELS, NER_TAGS, NLI_LABELS, UPOS_TAGS
from xstilts.tasks.languages import GROUP2TASK, LAREQA_LANGUAGES, TASK2LANGS

Scores = dict[str, float]
Scorer = Callable[[Path, Path, str], Scores]  # (prediction file, label file, language)
RETRIEVAL_K = 20


# --- reading ------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """UTF-8 text with universal newlines (CRLF and CR become LF), as ``open`` gives it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UserError(f"{path}: not UTF-8 text (bad byte on line {line})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _split_lines(text: str) -> list[str]:
    """The lines that iterating over the file yields, without the line ends."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


_SPACE_BUT_NEWLINE = re.compile(r"[^\S\n]")


def stripped_lines(path: Path) -> list[str]:
    """``line.strip()`` of every line (the scorer's ``read_label``)."""
    text = _read_text(path)
    lines = _split_lines(text)
    # Most files have no whitespace but line ends: then skip a pass over every line.
    if _SPACE_BUT_NEWLINE.search(text):
        return [line.strip() for line in lines]
    return lines


def read_tag_lines(path: Path) -> list[str]:
    """Stripped lines, ending with a blank one: the scorer's ``read_tag``, not yet split.

    Every blank line closes a sentence, even an empty one. A last sentence with no blank
    line after it is kept. Keeping the lines flat spares a list per sentence, which
    matters for a million tokens.
    """
    lines = stripped_lines(path)
    if lines and lines[-1]:
        lines.append("")
    return lines


def read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as error:
        raise UserError(
            f"{path}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def read_squad(path: Path) -> Any:
    """Parsed JSON, unwrapped to its ``data`` value when that key exists (``read_squad``)."""
    data = read_json(path)
    return data["data"] if isinstance(data, dict) and "data" in data else data


def read_xcopa(path: Path) -> list[Any]:
    """The ``label`` value of each JSON line, with its JSON type kept."""
    labels = []
    for number, line in enumerate(_split_lines(_read_text(path)), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(f"{path}: malformed JSON on line {number}: {error.msg}") from None
        if not isinstance(row, dict) or "label" not in row:
            raise UserError(f'{path}: line {number} is not a JSON object with a "label" field')
        labels.append(row["label"])
    return labels


# --- checks -------------------------------------------------------------------------------

_INTEGER = re.compile(r"-?[0-9]+")


def _one_of(allowed: Sequence[str]) -> Callable[[str], str | None]:
    allowed_set = frozenset(allowed)
    listed = ", ".join(allowed)

    def problem(value: str) -> str | None:
        return None if value in allowed_set else f"label {value!r} is not one of {listed}"

    return problem


def _integer(value: str) -> str | None:
    return None if _INTEGER.fullmatch(value) else f"{value!r} is not an integer"


def _id_pair(value: str) -> str | None:
    fields = value.split("\t")
    if len(fields) == 2:
        return None
    return f"{value!r} is not two tab-separated fields (source id, target id)"


def _check_lines(path: Path, lines: Sequence[str], problem: Callable[[str], str | None]) -> None:
    for number, value in enumerate(lines, start=1):
        message = problem(value)
        if message:
            raise UserError(f"{path}: line {number}: {message}")


def _check_tags(path: Path, lines: Sequence[str], allowed: Sequence[str]) -> None:
    if not set(lines) - set(allowed) - {""}:
        return
    listed = ", ".join(allowed)
    for index, sentence in enumerate(_sentences(lines), start=1):
        for tag in sentence:
            if tag not in allowed:
                raise UserError(f"{path}: sentence {index}: tag {tag!r} is not one of {listed}")


def _sentences(lines: Sequence[str]) -> list[Sequence[str]]:
    """Split flat tag lines (ending with a blank) into sentences."""
    blanks = [index for index, tag in enumerate(lines) if not tag]
    return [lines[start + 1:end] for start, end in zip([-1, *blanks], blanks)]


def _check_count(prediction_file: Path, label_file: Path, predicted: int, gold: int) -> None:
    """The scorer's assert that both files hold the same number of examples."""
    if predicted != gold:
        raise UserError(f"{prediction_file}: {predicted} examples, but {label_file} has {gold}")


def _sentence_mismatch(
    prediction_file: Path, label_file: Path, predictions: list[str], labels: list[str]
) -> str:
    """Describe the first sentence whose tag counts differ between the two files."""
    index, predicted, gold = next(
        (index, len(predicted), len(gold))
        for index, (predicted, gold) in enumerate(
            zip(_sentences(predictions), _sentences(labels)), start=1
        )
        if len(predicted) != len(gold)
    )
    return f"{prediction_file}: sentence {index} has {predicted} tags, but {gold} in {label_file}"


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _check_object(
    path: Path, data: Any, what: str, value_ok: Callable[[Any], bool], value_what: str
) -> dict[str, Any]:
    """Check that ``data`` is a JSON object whose values all satisfy ``value_ok``."""
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object mapping {what}, got {_json_type(data)}")
    for key, value in data.items():
        if not value_ok(value):
            raise UserError(f"{path}: {key!r} maps to {_json_type(value)}, expected {value_what}")
    return data


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_gold_list(value: Any) -> bool:
    return _is_string_list(value) and len(value) > 0


def _check_squad(path: Path, data: Any) -> list[dict[str, Any]]:
    """Check the SQuAD ``data`` shape: articles → paragraphs → qas with id and answers."""
    if not isinstance(data, list):
        raise UserError(f"{path}: expected SQuAD JSON, an object with a 'data' list of articles")
    total = 0
    for a, article in enumerate(data):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise UserError(f"{path}: article {a} has no 'paragraphs' list")
        for p, paragraph in enumerate(article["paragraphs"]):
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("qas"), list):
                raise UserError(f"{path}: article {a} paragraph {p} has no 'qas' list")
            for qa in paragraph["qas"]:
                _check_question(path, qa)
                total += 1
    if total == 0:
        raise UserError(f"{path}: no questions")
    return data


def _check_question(path: Path, qa: Any) -> None:
    if not isinstance(qa, dict) or not isinstance(qa.get("id"), str):
        raise UserError(f"{path}: a question has no string 'id'")
    answers = qa.get("answers")
    if not isinstance(answers, list) or not answers or not all(
        isinstance(answer, dict) and isinstance(answer.get("text"), str) for answer in answers
    ):
        raise UserError(f"{path}: question {qa['id']!r} needs a non-empty 'answers' list of texts")


# --- task scorers -------------------------------------------------------------------------


def _line_accuracy(problem: Callable[[str], str | None]) -> Scorer:
    """Accuracy over one-label-per-line files whose lines all pass ``problem``."""

    def score(prediction_file: Path, label_file: Path, language: str) -> Scores:
        labels = stripped_lines(label_file)
        predictions = stripped_lines(prediction_file)
        _check_lines(label_file, labels, problem)
        _check_lines(prediction_file, predictions, problem)
        _check_count(prediction_file, label_file, len(predictions), len(labels))
        _check_not_empty(label_file, labels)
        return accuracy(labels, predictions)

    return score


def _check_not_empty(path: Path, examples: Sequence[Any]) -> None:
    if not len(examples):
        raise UserError(f"{path}: no examples")


def _tagging(allowed: Sequence[str]) -> Scorer:
    """Entity F1 (seqeval default mode) over blank-line-separated tag files."""

    def score(prediction_file: Path, label_file: Path, language: str) -> Scores:
        labels = read_tag_lines(label_file)
        predictions = read_tag_lines(prediction_file)
        _check_tags(label_file, labels, allowed)
        _check_tags(prediction_file, predictions, allowed)
        _check_count(prediction_file, label_file, predictions.count(""), labels.count(""))
        _check_not_empty(label_file, labels)
        try:
            return seqeval_f1_flat(labels, predictions)
        except ValueError:  # some sentence lengths differ: name the first one
            message = _sentence_mismatch(prediction_file, label_file, predictions, labels)
            raise UserError(message) from None

    return score


def _score_bucc(prediction_file: Path, label_file: Path, language: str) -> Scores:
    labels = stripped_lines(label_file)
    predictions = stripped_lines(prediction_file)
    _check_lines(label_file, labels, _id_pair)
    _check_lines(prediction_file, predictions, _id_pair)
    return bucc_f1(labels, predictions)


def _qa(metric: Callable[[list, dict[str, str], str], Scores]) -> Scorer:
    """EM and F1 of ``{question id: answer}`` predictions against SQuAD-format labels."""

    def score(prediction_file: Path, label_file: Path, language: str) -> Scores:
        dataset = _check_squad(label_file, read_squad(label_file))
        predictions = _check_object(
            prediction_file,
            read_squad(prediction_file),
            "question ids to answer strings",
            lambda value: isinstance(value, str),
            "an answer string",
        )
        return metric(dataset, predictions, language)

    return score


def _squad_in_any_language(
    dataset: list[dict[str, Any]], predictions: dict[str, str], language: str
) -> Scores:
    """XQuAD and TyDiQA use SQuAD's English normalisation whatever the language."""
    return squad_em_f1(dataset, predictions)


def _ranking(
    metric: Callable[..., float], read: Callable[[Path], Any], items: str
) -> Scorer:
    """Score ``{id: [ranked ids]}`` predictions against ``{id: [gold ids]}`` labels."""

    def score(prediction_file: Path, label_file: Path, language: str) -> Scores:
        gold = _check_object(
            label_file, read(label_file), f"ids to gold {items} ids",
            _is_gold_list, f"a non-empty array of {items} id strings",
        )
        predictions = _check_object(
            prediction_file, read(prediction_file), f"ids to ranked {items} ids",
            _is_string_list, f"an array of {items} id strings",
        )
        return {"map@20": metric(gold, predictions, k=RETRIEVAL_K) * 100}

    return score


# Mewsli-X: the official scorer reads it with read_squad and scores MRR@20 as "map@20".
_score_mewslix = _ranking(mrr_at_k, read_squad, "entity")
# Extension: the official scorer does not score LAReQA (see the module docstring).
_score_lareqa = _ranking(map_at_k, read_json, "candidate")


def _score_xcopa(prediction_file: Path, label_file: Path, language: str) -> Scores:
    labels = read_xcopa(label_file)
    predictions = read_xcopa(prediction_file)
    _check_count(prediction_file, label_file, len(predictions), len(labels))
    _check_not_empty(label_file, labels)
    return accuracy(labels, predictions)


@dataclass(frozen=True)
class _Task:
    suffix: str
    score: Scorer


TASK_FORMATS: dict[str, _Task] = {
    "pawsx": _Task("tsv", _line_accuracy(_one_of(BINARY_LABELS))),
    "xnli": _Task("tsv", _line_accuracy(_one_of(NLI_LABELS))),
    "panx": _Task("tsv", _tagging(NER_TAGS)),
    "udpos": _Task("tsv", _tagging(UPOS_TAGS)),
    "bucc2018": _Task("tsv", _score_bucc),
    "tatoeba": _Task("tsv", _line_accuracy(_integer)),
    "xquad": _Task("json", _qa(_squad_in_any_language)),
    "mlqa": _Task("json", _qa(mlqa_em_f1)),
    "tydiqa": _Task("json", _qa(_squad_in_any_language)),
    "xcopa": _Task("jsonl", _score_xcopa),
    "mewslix": _Task("json", _score_mewslix),
    "lareqa": _Task("json", _score_lareqa),
}


# --- scoring a submission -----------------------------------------------------------------


def task_languages(benchmark: str) -> dict[str, tuple[str, ...]]:
    """The benchmark's tasks in scorer order, with LAReQA given its languages."""
    if benchmark not in TASK2LANGS:
        raise UserError(
            f"unknown benchmark {benchmark!r}; choose one of {', '.join(TASK2LANGS)}"
        )
    languages = dict(TASK2LANGS[benchmark])
    if "lareqa" in languages:
        languages["lareqa"] = LAREQA_LANGUAGES
    return languages


def score_submission(benchmark: str, predictions: Path, labels: Path) -> dict[str, Any]:
    """Score a prediction folder against a label folder; return what the scorer writes.

    The result has ``all_task`` (only when every task is present), then each group
    whose tasks are all present, then one entry per scored task: metric → {language:
    value}, ``avg_<metric>`` and ``avg_metric``. A task is scored when its folder is
    in both folders.
    """
    languages = task_languages(benchmark)
    predictions, labels = Path(predictions), Path(labels)
    present = _task_folders(predictions, languages, benchmark) & _task_folders(
        labels, languages, benchmark
    )
    if not present:
        raise UserError(
            f"no task folder is in both {predictions} and {labels}; "
            f"{benchmark} tasks: {', '.join(languages)}"
        )
    detailed = {
        task: _score_task(benchmark, task, langs, predictions, labels)
        for task, langs in languages.items()
        if task in present
    }
    return {**_overall_scores(benchmark, list(languages), detailed), **detailed}


def _task_folders(folder: Path, languages: Mapping[str, Any], benchmark: str) -> set[str]:
    """Task subfolders of ``folder``; unknown ones are an error, hidden ones are ignored."""
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "no such folder"
        raise UserError(f"{folder}: {problem}")
    # Hidden folders (.git, .ipynb_checkpoints) are tool metadata, not tasks.
    names = {
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and not entry.name.startswith(".")
    }
    unknown = sorted(names - set(languages))
    if unknown:
        raise UserError(
            f"{folder / unknown[0]}: unknown task folder {unknown[0]!r}; "
            f"{benchmark} tasks: {', '.join(languages)}"
        )
    return names


def score_language(task: str, language: str, predictions: Path, labels: Path
                   ) -> dict[str, float]:
    """Scores of one task and language from two leaderboard-layout folders, exactly as
    ``score_submission`` computes them (the evaluation stage uses this)."""
    name = f"test-{language}.{TASK_FORMATS[task].suffix}"
    prediction_file = predictions / task / name
    label_file = labels / task / name
    for path, kind in ((prediction_file, "prediction"), (label_file, "label")):
        if not path.is_file():
            raise UserError(f"{path}: missing {kind} file for {task} language {language!r}")
    return TASK_FORMATS[task].score(prediction_file, label_file, language)


def _score_task(
    benchmark: str, task: str, languages: Sequence[str], predictions: Path, labels: Path
) -> dict[str, Any]:
    """Per-language scores, their unweighted means, and the task's ``avg_metric``."""
    per_metric: dict[str, dict[str, float]] = {}
    for language in languages:
        for metric, value in score_language(task, language, predictions, labels).items():
            per_metric.setdefault(metric, {})[language] = value
    result: dict[str, Any] = dict(per_metric)
    for metric, values in per_metric.items():
        result[f"avg_{metric}"] = sum(values.values()) / len(values)
    result["avg_metric"] = _avg_metric(benchmark, task, result)
    return result


def _avg_metric(benchmark: str, task: str, result: Mapping[str, Any]) -> float:
    """The task's headline number, chosen in the scorer's order."""
    if task in GROUP2TASK[benchmark]["qa"]:
        return (result["avg_exact_match"] + result["avg_f1"]) / 2
    headline = next(key for key in ("avg_f1", "avg_accuracy", "avg_map@20") if key in result)
    return result[headline]


def _overall_scores(
    benchmark: str, tasks: Sequence[str], detailed: Mapping[str, Mapping[str, Any]]
) -> dict[str, float]:
    """``all_task`` when every task is scored, and each group whose tasks are all scored."""
    overall: dict[str, float] = {}
    if all(task in detailed for task in tasks):
        overall["all_task"] = _mean_metric(tasks, detailed)
    for group, members in GROUP2TASK[benchmark].items():
        if all(task in detailed for task in members):
            overall[group] = _mean_metric(members, detailed)
    return overall


def _mean_metric(tasks: Sequence[str], detailed: Mapping[str, Mapping[str, Any]]) -> float:
    return sum(detailed[task]["avg_metric"] for task in tasks) / len(tasks)


# --- writing ------------------------------------------------------------------------------

Kind = Literal["labels", "predictions"]


def write_task_file(folder: Path, task: str, language: str, items: Any, kind: Kind) -> Path:
    """Write ``<folder>/<task>/test-<language>.<ext>`` atomically, in the official format.

    ``items`` by task:

    * xnli, pawsx: ``list[str]`` labels, one per line.
    * tatoeba: ``list[int]`` target indices, one per line.
    * bucc2018: ``list[str]`` "src_id\\ttgt_id" lines, or ``list[tuple[str, str]]``.
    * panx, udpos: ``list[list[str]]``; one tag per line, and a blank line after each
      sentence.
    * xquad, mlqa, tydiqa: the labels are the SQuAD ``data`` list (articles → paragraphs →
      qas), written as ``{"data": [...]}``. The predictions are a
      ``dict[question_id, answer_text]``.
    * mewslix, lareqa: ``dict[id, list[str]]``. The labels hold the gold id(s) and the
      predictions the ranked ids.
    * xcopa: ``list[int]``, one ``{"label": int}`` JSON line each.

    Raises ``ValueError`` for an unknown task, language or kind, and for items that the
    format cannot hold (line breaks in a line, a blank tag).
    """
    if task not in TASK_FORMATS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASK_FORMATS)}")
    if language not in _all_languages(task):
        raise ValueError(f"{task} has no language {language!r}")
    if kind not in ("labels", "predictions"):
        raise ValueError(f"kind must be 'labels' or 'predictions', not {kind!r}")
    path = Path(folder) / task / f"test-{language}.{TASK_FORMATS[task].suffix}"
    write_text(path, _format(task, items, kind))
    return path


def _all_languages(task: str) -> set[str]:
    if task == "lareqa":
        return set(LAREQA_LANGUAGES)
    return {lang for version in TASK2LANGS.values() for lang in version.get(task, ())}


def _format(task: str, items: Any, kind: Kind) -> str:
    if task in ("panx", "udpos"):
        return _format_tags(items)
    if task == "xcopa":
        return "".join(json.dumps({"label": label}) + "\n" for label in items)
    if task in ("xquad", "mlqa", "tydiqa") and kind == "labels":
        return json.dumps({"data": list(items)}, ensure_ascii=False)
    if TASK_FORMATS[task].suffix == "json":
        return json.dumps(dict(items), ensure_ascii=False)
    return _format_lines(item if isinstance(item, str) else _tsv(item) for item in items)


def _tsv(item: int | Sequence[str]) -> str:
    return str(item) if isinstance(item, int) else "\t".join(item)


def _format_lines(lines: Iterable[str]) -> str:
    lines = list(lines)
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError(f"a line break inside {line!r} would split the example")
    return "".join(line + "\n" for line in lines)


def _format_tags(sentences: Iterable[Sequence[str]]) -> str:
    parts = []
    for sentence in sentences:
        for tag in sentence:
            if not tag.strip() or "\n" in tag or "\r" in tag:
                raise ValueError(f"tag {tag!r} cannot be written on its own line")
        parts.append("".join(tag + "\n" for tag in sentence) + "\n")
    return "".join(parts)
