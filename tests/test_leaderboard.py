"""Leaderboard folders: aggregation rules, readers, bad input, the exporter and speed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xstilts.errors import UserError
from xstilts.evaluation import score_submission, write_task_file
from xstilts.evaluation.fake_submission import write_fake_submission
from xstilts.tasks.languages import GROUP2TASK, LAREQA_LANGUAGES, TASK2LANGS

Items = tuple[Any, Any]  # (labels, predictions)


def squad(*qas: tuple[str, list[str]]) -> list[dict]:
    questions = [
        {"id": qid, "question": "?", "answers": [{"text": text} for text in golds]}
        for qid, golds in qas
    ]
    return [{"title": "t", "paragraphs": [{"context": "c", "qas": questions}]}]


def perfect(task: str) -> Items:
    """Tiny labels with predictions that score 100 on every metric."""
    same: dict[str, Any] = {
        "pawsx": ["0", "1"],
        "xnli": ["entailment", "neutral"],
        "panx": [["B-PER", "I-PER", "O"]],
        "udpos": [["NOUN", "VERB"]],
        "bucc2018": ["s1\tt1"],
        "tatoeba": [0, 1],
        "xcopa": [0, 1],
    }
    if task in same:
        return same[task], same[task]
    if task in ("xquad", "mlqa", "tydiqa"):
        return squad(("q", ["Paris"])), {"q": "Paris"}
    if task == "mewslix":
        return {"e": ["Q1"]}, {"e": ["Q1", "Q2"]}
    return {"q": ["c1", "c2"]}, {"q": ["c2", "c1"]}  # lareqa


def languages(benchmark: str) -> dict[str, tuple[str, ...]]:
    langs = dict(TASK2LANGS[benchmark])
    if "lareqa" in langs:
        langs["lareqa"] = LAREQA_LANGUAGES
    return langs


def make_submission(
    root: Path,
    benchmark: str,
    tasks: set[str] | None = None,
    overrides: dict[tuple[str, str], Items] | None = None,
) -> tuple[Path, Path]:
    """Write every language of ``tasks`` (default: all); ``overrides`` replace some files."""
    predictions, labels = root / "predictions", root / "labels"
    predictions.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    for task, langs in languages(benchmark).items():
        if tasks is not None and task not in tasks:
            continue
        for lang in langs:
            gold, predicted = (overrides or {}).get((task, lang)) or perfect(task)
            write_task_file(labels, task, lang, gold, "labels")
            write_task_file(predictions, task, lang, predicted, "predictions")
    return predictions, labels


def ranked_with(gold: str, rank: int, length: int) -> list[str]:
    ids = [f"wrong{i}" for i in range(length)]
    ids[rank - 1] = gold
    return ids


# --- aggregation --------------------------------------------------------------------------


def test_classification_group_and_output_structure(tmp_path):
    pred, gold = make_submission(
        tmp_path, "xtreme", {"pawsx", "xnli"}, {("pawsx", "de"): (["0", "1"], ["0", "0"])}
    )
    result = score_submission("xtreme", pred, gold)
    assert list(result) == ["classification", "pawsx", "xnli"]
    pawsx = result["pawsx"]
    assert list(pawsx) == ["accuracy", "avg_accuracy", "avg_metric"]
    assert list(pawsx["accuracy"]) == ["de", "en", "es", "fr", "ja", "ko", "zh"]
    assert pawsx["accuracy"]["de"] == 50.0
    # de 50, six languages 100 -> 650/7; xnli 100 everywhere.
    assert pawsx["avg_accuracy"] == pytest.approx(650 / 7)
    assert pawsx["avg_metric"] == pytest.approx(650 / 7)
    assert result["classification"] == pytest.approx((650 / 7 + 100) / 2)


def test_xtreme_all_task_needs_all_nine_tasks(tmp_path):
    pred, gold = make_submission(
        tmp_path, "xtreme", overrides={("tatoeba", "ar"): ([0, 1], [1, 0])}
    )
    result = score_submission("xtreme", pred, gold)
    tatoeba = (0 + 35 * 100) / 36  # ar wrong, 35 languages right
    assert list(result) == [
        "all_task", "classification", "tagging", "qa", "retrieval", *TASK2LANGS["xtreme"]
    ]
    assert result["all_task"] == pytest.approx((8 * 100 + tatoeba) / 9)
    assert result["retrieval"] == pytest.approx((100 + tatoeba) / 2)
    assert result["classification"] == result["tagging"] == result["qa"] == 100.0

    (pred / "xnli").rename(pred / ".xnli-hidden")  # hidden folders are ignored
    partial = score_submission("xtreme", pred, gold)
    assert "all_task" not in partial and "classification" not in partial
    assert "xnli" not in partial and "pawsx" in partial
    assert {"tagging", "qa", "retrieval"} <= partial.keys()


def test_xtreme_r_all_task_includes_lareqa(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme-r")
    result = score_submission("xtreme-r", pred, gold)
    groups = list(GROUP2TASK["xtreme-r"])
    assert list(result) == ["all_task", *groups, *TASK2LANGS["xtreme-r"]]
    assert all(result[key] == 100.0 for key in ["all_task", *groups])
    assert list(result["lareqa"]["map@20"]) == list(LAREQA_LANGUAGES)
    assert result["lareqa"]["avg_metric"] == 100.0

    for folder in gold.iterdir():
        if folder.name == "lareqa":
            folder.rename(gold / ".lareqa-off")
    without = score_submission("xtreme-r", pred, gold)
    assert "all_task" not in without and "lareqa" not in without
    assert list(without)[:5] == groups  # every group is still complete


def test_xcopa_counts_in_classification_and_multi_choice(tmp_path):
    overrides = {("xcopa", "et"): ([0, 1], [0, 0])}
    pred, gold = make_submission(tmp_path, "xtreme-r", {"xcopa"}, overrides)
    only = score_submission("xtreme-r", pred, gold)
    xcopa = (50 + 10 * 100) / 11
    assert list(only) == ["multi_choice", "xcopa"]
    assert only["multi_choice"] == pytest.approx(xcopa)

    make_submission(tmp_path, "xtreme-r", {"xnli"})
    both = score_submission("xtreme-r", pred, gold)
    assert both["classification"] == pytest.approx((100 + xcopa) / 2)
    assert both["multi_choice"] == pytest.approx(xcopa)


def test_xcopa_labels_compare_without_type_coercion(tmp_path):
    pred, gold = make_submission(
        tmp_path, "xtreme-r", {"xcopa"}, {("xcopa", "it"): ([1, 0], ["1", 0])}
    )
    assert score_submission("xtreme-r", pred, gold)["xcopa"]["accuracy"]["it"] == 50.0


def test_mewslix_gold_at_rank_16(tmp_path):
    # The official mock: the gold QID at rank 16 of 20 -> 1/16 -> 6.25.
    overrides = {("mewslix", "ar"): ({"x": ["Q46930"]}, {"x": ranked_with("Q46930", 16, 20)})}
    pred, gold = make_submission(tmp_path, "xtreme-r", {"mewslix"}, overrides)
    result = score_submission("xtreme-r", pred, gold)["mewslix"]
    assert list(result) == ["map@20", "avg_map@20", "avg_metric"]
    assert result["map@20"]["ar"] == 6.25
    assert result["avg_metric"] == pytest.approx((6.25 + 10 * 100) / 11)


def test_lareqa_map_with_several_golds(tmp_path):
    labels = {"q1": ["a", "b", "c"], "q2": ["d", "e"]}
    predictions = {"q1": ["a", "x", "b", "y", "a", "c"]}
    pred, gold = make_submission(
        tmp_path, "xtreme-r", {"lareqa"}, {("lareqa", "en"): (labels, predictions)}
    )
    result = score_submission("xtreme-r", pred, gold)
    # q1: (1/1 + 2/3 + 3/6) / 3 = 13/18; q2 missing -> 0; mean 13/36.
    assert result["lareqa"]["map@20"]["en"] == pytest.approx(100 * 13 / 36)
    assert list(result) == ["lareqa"]  # in no group


def test_qa_avg_metric_is_mean_of_em_and_f1(tmp_path):
    items = (squad(("q1", ["Paris"]), ("q2", ["red car"])), {"q1": "Paris", "q2": "red"})
    overrides = {("tydiqa", lang): items for lang in TASK2LANGS["xtreme"]["tydiqa"]}
    pred, gold = make_submission(tmp_path, "xtreme", {"tydiqa"}, overrides)
    tydiqa = score_submission("xtreme", pred, gold)["tydiqa"]
    # Each language: EM (1 + 0)/2 = 50; F1 (1 + 2/3)/2 = 5/6 -> 250/3.
    assert list(tydiqa) == ["exact_match", "f1", "avg_exact_match", "avg_f1", "avg_metric"]
    assert tydiqa["avg_exact_match"] == pytest.approx(50.0)
    assert tydiqa["avg_f1"] == pytest.approx(250 / 3)
    assert tydiqa["avg_metric"] == pytest.approx((50 + 250 / 3) / 2)


def test_udpos_scores_raw_tags_with_seqeval(tmp_path):
    gold_tags = [["NOUN", "NOUN", "VERB", "DET", "NOUN"]]
    pred_tags = [["NOUN", "ADJ", "VERB", "DET", "NOUN"]]
    pred, gold = make_submission(
        tmp_path, "xtreme", {"udpos"}, {("udpos", "en"): (gold_tags, pred_tags)}
    )
    udpos = score_submission("xtreme", pred, gold)["udpos"]
    # 4 gold chunks, 5 predicted, 3 right: P 60, R 75, F1 2/3 (see test_metrics).
    assert udpos["precision"]["en"] == pytest.approx(60.0)
    assert udpos["recall"]["en"] == pytest.approx(75.0)
    assert udpos["f1"]["en"] == pytest.approx(200 / 3)
    assert udpos["avg_metric"] == pytest.approx((200 / 3 + 32 * 100) / 33)


# --- readers ------------------------------------------------------------------------------


def test_tag_reader_strips_lines_and_keeps_an_unterminated_last_sentence(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"panx"})
    (gold / "panx" / "test-en.tsv").write_text("B-PER\nI-PER\n\nO\nB-LOC", encoding="utf-8")
    (pred / "panx" / "test-en.tsv").write_bytes(b"B-PER\r\nI-PER \r\n\r\n\tO\r\nB-LOC\r\n\r\n")
    assert score_submission("xtreme", pred, gold)["panx"]["f1"]["en"] == 100.0


def test_label_reader_strips_whitespace_and_crlf(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"xnli"})
    (pred / "xnli" / "test-fr.tsv").write_bytes(b" entailment\r\nneutral \r\n")
    assert score_submission("xtreme", pred, gold)["xnli"]["accuracy"]["fr"] == 100.0


def test_squad_predictions_may_have_no_data_key_and_labels_need_it(tmp_path):
    # read_squad returns ["data"] when present, else the object itself.
    pred, gold = make_submission(tmp_path, "xtreme", {"xquad"})
    (pred / "xquad" / "test-en.json").write_text('{"q": "the Paris"}', encoding="utf-8")
    assert score_submission("xtreme", pred, gold)["xquad"]["exact_match"]["en"] == 100.0


# --- exporter -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "lang", "kind", "items", "name", "text"),
    [
        ("xnli", "fr", "labels", ["entailment", "neutral"], "test-fr.tsv", "entailment\nneutral\n"),
        ("pawsx", "de", "predictions", ["1", "0"], "test-de.tsv", "1\n0\n"),
        ("tatoeba", "ar", "predictions", [3, 0], "test-ar.tsv", "3\n0\n"),
        ("bucc2018", "de", "labels", [("de-1", "en-2"), "de-3\ten-4"], "test-de.tsv",
         "de-1\ten-2\nde-3\ten-4\n"),
        ("panx", "en", "labels", [["B-PER", "O"], [], ["O"]], "test-en.tsv", "B-PER\nO\n\n\nO\n\n"),
        ("xcopa", "et", "predictions", [1, 0], "test-et.jsonl", '{"label": 1}\n{"label": 0}\n'),
    ],
)
def test_exporter_text_formats(tmp_path, task, lang, kind, items, name, text):
    path = write_task_file(tmp_path, task, lang, items, kind)
    assert path == tmp_path / task / name
    assert path.read_text(encoding="utf-8") == text


def test_exporter_json_formats(tmp_path):
    data = squad(("q", ["北京"]))
    labels = write_task_file(tmp_path / "l", "mlqa", "zh", data, "labels")
    predictions = write_task_file(tmp_path / "p", "mlqa", "zh", {"q": "北京"}, "predictions")
    ranked = write_task_file(tmp_path / "p", "mewslix", "ar", {"e": ["Q1", "Q2"]}, "predictions")
    assert json.loads(labels.read_text(encoding="utf-8")) == {"data": data}
    assert "北京" in predictions.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    assert json.loads(predictions.read_text(encoding="utf-8")) == {"q": "北京"}
    assert json.loads(ranked.read_text(encoding="utf-8")) == {"e": ["Q1", "Q2"]}
    assert ranked.name == "test-ar.json"


def test_exporter_round_trip_reproduces_scores(tmp_path):
    # en: gold chunks PER(0-1) and LOC (after an empty sentence); pred finds PER only:
    # P 1/1, R 1/2 -> F1 2/3. BUCC de: pred {a-b, x-y}, gold {a-b}: P 1/2, R 1 -> F1 2/3.
    overrides = {
        ("panx", "en"): ([["B-PER", "I-PER"], [], ["B-LOC"]], [["B-PER", "I-PER"], [], ["O"]]),
        ("bucc2018", "de"): ([("a", "b")], ["a\tb", "x\ty"]),
    }
    pred, gold = make_submission(tmp_path, "xtreme", {"panx", "bucc2018"}, overrides)
    result = score_submission("xtreme", pred, gold)
    assert result["panx"]["f1"]["en"] == pytest.approx(200 / 3)
    assert result["panx"]["precision"]["en"] == 100.0
    assert result["panx"]["recall"]["en"] == 50.0
    assert result["bucc2018"]["f1"]["de"] == pytest.approx(200 / 3)
    assert result["bucc2018"]["precision"]["de"] == 50.0


@pytest.mark.parametrize(
    ("task", "lang", "items"),
    [
        ("sst2", "en", ["0"]),
        ("pawsx", "ar", ["0"]),  # pawsx has no Arabic
        ("xnli", "en", ["entail\nment"]),
        ("panx", "en", [["B-PER", " "]]),
    ],
)
def test_exporter_rejects_what_it_cannot_write(tmp_path, task, lang, items):
    with pytest.raises(ValueError):
        write_task_file(tmp_path, task, lang, items, "labels")


# --- bad input ----------------------------------------------------------------------------


def assert_user_error(call: Callable[[], Any], *fragments: object) -> None:
    """``call`` raises a one-line UserError that contains every fragment."""
    with pytest.raises(UserError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert str(fragment) in message, (fragment, message)


@pytest.mark.parametrize(("side", "lang"), [("labels", "ja"), ("predictions", "ko")])
def test_missing_prediction_or_label_file(tmp_path, side, lang):
    pred, gold = make_submission(tmp_path, "xtreme", {"pawsx"})
    missing = (gold if side == "labels" else pred) / "pawsx" / f"test-{lang}.tsv"
    missing.unlink()
    kind = "label" if side == "labels" else "prediction"
    assert_user_error(lambda: score_submission("xtreme", pred, gold), missing, f"'{lang}'", kind)


def test_malformed_json_names_file_and_line(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"xquad"})
    bad = pred / "xquad" / "test-en.json"
    bad.write_text('{"q": "Paris",\n', encoding="utf-8")
    assert_user_error(lambda: score_submission("xtreme", pred, gold), bad, "line 2")


@pytest.mark.parametrize(
    "text", ['{"label": 0}\n{"label": \n', '{"label": 0}\n{"lbl": 1}\n', '{"label": 0}\n[1]\n']
)
def test_malformed_jsonl_names_file_and_line(tmp_path, text):
    pred, gold = make_submission(tmp_path, "xtreme-r", {"xcopa"})
    bad = pred / "xcopa" / "test-qu.jsonl"
    bad.write_text(text, encoding="utf-8")
    assert_user_error(lambda: score_submission("xtreme-r", pred, gold), bad, "line 2")


@pytest.mark.parametrize(
    ("benchmark", "task", "side", "content", "fragment"),
    [
        ("xtreme", "xquad", "predictions", ["Paris"], "got array"),
        ("xtreme", "xquad", "predictions", {"q": 1}, "'q'"),
        ("xtreme", "mlqa", "labels", {"version": "1"}, "SQuAD"),
        ("xtreme", "tydiqa", "labels", {"data": [{"title": "x"}]}, "paragraphs"),
        ("xtreme", "xquad", "labels", {"data": [{"paragraphs": [{"qas": [{"id": "q"}]}]}]}, "'q'"),
        ("xtreme-r", "mewslix", "predictions", {"e": "Q1"}, "'e'"),
        ("xtreme-r", "mewslix", "labels", {"e": []}, "'e'"),
        ("xtreme-r", "lareqa", "predictions", [], "got array"),
    ],
)
def test_wrong_json_shape(tmp_path, benchmark, task, side, content, fragment):
    pred, gold = make_submission(tmp_path, benchmark, {task})
    lang = languages(benchmark)[task][0]
    bad = (pred if side == "predictions" else gold) / task / f"test-{lang}.json"
    bad.write_text(json.dumps(content), encoding="utf-8")
    assert_user_error(lambda: score_submission(benchmark, pred, gold), bad, fragment)


@pytest.mark.parametrize(
    ("benchmark", "task", "fewer"),
    [
        ("xtreme", "pawsx", ["0"]),
        ("xtreme", "xnli", ["neutral"]),
        ("xtreme", "panx", []),
        ("xtreme", "udpos", []),
        ("xtreme", "tatoeba", [0]),
        ("xtreme-r", "xcopa", [0]),
    ],
)
def test_example_count_mismatch(tmp_path, benchmark, task, fewer):
    lang = languages(benchmark)[task][-1]
    overrides = {(task, lang): (perfect(task)[0], fewer)}
    pred, gold = make_submission(tmp_path, benchmark, {task}, overrides)
    prediction_file = next((pred / task).glob(f"test-{lang}.*"))
    label_file = next((gold / task).glob(f"test-{lang}.*"))
    assert_user_error(lambda: score_submission(benchmark, pred, gold), prediction_file, label_file)


def test_tag_count_mismatch_inside_a_sentence(tmp_path):
    overrides = {("panx", "de"): ([["O", "O"], ["B-PER", "I-PER"]], [["O", "O"], ["B-PER"]])}
    pred, gold = make_submission(tmp_path, "xtreme", {"panx"}, overrides)
    assert_user_error(
        lambda: score_submission("xtreme", pred, gold),
        pred / "panx" / "test-de.tsv", gold / "panx" / "test-de.tsv", "sentence 2",
    )


@pytest.mark.parametrize("side", ["labels", "predictions"])
@pytest.mark.parametrize(
    ("task", "bad_items"),
    [
        ("xnli", ["entails", "neutral"]),
        ("pawsx", ["2", "1"]),
        ("udpos", [["NOUNS", "VERB"]]),
        ("panx", [["B-MISC", "I-PER", "O"]]),
    ],
)
def test_labels_outside_the_label_set(tmp_path, side, task, bad_items):
    good = perfect(task)[0]
    items = (bad_items, good) if side == "labels" else (good, bad_items)
    pred, gold = make_submission(tmp_path, "xtreme", {task}, {(task, "en"): items})
    bad = (gold if side == "labels" else pred) / task / "test-en.tsv"
    value = bad_items[0] if isinstance(bad_items[0], str) else bad_items[0][0]
    assert_user_error(lambda: score_submission("xtreme", pred, gold), bad, repr(value))


@pytest.mark.parametrize("line", ["de-1\ten-1\textra", "de-1 en-1"])
def test_bucc_lines_need_two_tab_separated_fields(tmp_path, line):
    pred, gold = make_submission(tmp_path, "xtreme", {"bucc2018"})
    bad = pred / "bucc2018" / "test-fr.tsv"
    bad.write_text(f"s1\tt1\n{line}\n", encoding="utf-8")
    assert_user_error(lambda: score_submission("xtreme", pred, gold), bad, "line 2")


def test_tatoeba_lines_must_be_integers(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"tatoeba"})
    bad = gold / "tatoeba" / "test-hu.tsv"
    bad.write_text("0\nx1\n", encoding="utf-8")
    assert_user_error(lambda: score_submission("xtreme", pred, gold), bad, "line 2", "'x1'")


def test_unknown_task_folders(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"pawsx"})
    (pred / "paws").mkdir()
    assert_user_error(
        lambda: score_submission("xtreme", pred, gold), pred / "paws", "pawsx", "tydiqa"
    )
    (pred / "paws").rmdir()
    (gold / "lareqa").mkdir()  # an XTREME-R task, unknown to XTREME
    assert_user_error(lambda: score_submission("xtreme", pred, gold), gold / "lareqa", "bucc2018")


def test_unknown_benchmark_missing_folder_and_nothing_to_score(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"pawsx"})
    assert_user_error(lambda: score_submission("xtreme-x", pred, gold), "xtreme-x", "xtreme-r")
    missing = tmp_path / "nope"
    assert_user_error(lambda: score_submission("xtreme", missing, gold), missing)
    other = tmp_path / "other"
    make_submission(other, "xtreme", {"xnli"})
    assert_user_error(
        lambda: score_submission("xtreme", pred, other / "labels"), "no task folder", pred
    )


def test_file_that_is_not_utf8(tmp_path):
    pred, gold = make_submission(tmp_path, "xtreme", {"pawsx"})
    bad = pred / "pawsx" / "test-zh.tsv"
    bad.write_bytes(b"0\n\xff\xfe1\n")
    assert_user_error(lambda: score_submission("xtreme", pred, gold), bad, "UTF-8", "line 2")


# --- full size ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_submission(tmp_path_factory) -> tuple[Path, Path]:
    return write_fake_submission(tmp_path_factory.mktemp("full"), "xtreme", seed=0)


def test_full_size_xtreme_scores_every_task_and_language(full_submission):
    """(Its time is benchmarks/run.py's "scoring" budget.)"""
    pred, gold = full_submission
    result = score_submission("xtreme", pred, gold)
    assert list(result) == [
        "all_task", "classification", "tagging", "qa", "retrieval", *TASK2LANGS["xtreme"]
    ]
    for task, langs in TASK2LANGS["xtreme"].items():
        per_language = [value for value in result[task].values() if isinstance(value, dict)]
        assert all(list(scores) == list(langs) for scores in per_language)
        assert 0 < result[task]["avg_metric"] < 100


def test_small_fake_xtreme_r_submission_has_every_score(tmp_path):
    pred, gold = write_fake_submission(tmp_path, "xtreme-r", seed=1, scale=0.01)
    result = score_submission("xtreme-r", pred, gold)
    assert list(result) == ["all_task", *GROUP2TASK["xtreme-r"], *TASK2LANGS["xtreme-r"]]
