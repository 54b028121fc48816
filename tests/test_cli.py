"""The command line end to end: synthetic fetch, gold export, scoring, and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def xstilts(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts.cli", *map(str, args)],
                          capture_output=True, text=True, check=False)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())  # rich may wrap long lines
    for fragment in fragments:
        assert fragment in message, message


def perfect_predictions(labels: Path, predictions: Path) -> None:
    """Predictions equal to the gold: the label files, with QA labels turned into answers."""
    shutil.copytree(labels, predictions)
    for path in predictions.glob("*/test-*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "data" in data:
            answers = {qa["id"]: qa["answers"][0]["text"] for article in data["data"]
                       for paragraph in article["paragraphs"] for qa in paragraph["qas"]}
            path.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "data"
    result = xstilts("data", "fetch", "--source", "synthetic", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout + result.stderr
    return out


def test_synthetic_fetch_is_byte_identical(synthetic_data: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = xstilts("data", "fetch", "--source", "synthetic", "--out", again)
    assert result.returncode == 0, result.stderr
    first, second = tree_bytes(synthetic_data), tree_bytes(again)
    assert first.keys() == second.keys()
    assert len([k for k in first if k.endswith(".parquet")]) > 300
    assert first == second
    manifest = json.loads(first["manifest.json"])
    assert manifest["synthetic"] is True and manifest["origin"] == "synthetic"


@pytest.mark.parametrize("benchmark,tasks", [("xtreme", 9), ("xtreme-r", 10)])
def test_gold_labels_score_perfectly(synthetic_data: Path, tmp_path: Path, benchmark: str,
                                     tasks: int) -> None:
    labels = tmp_path / "labels"
    result = xstilts("data", "labels", "--benchmark", benchmark, "--data", synthetic_data,
                     "--out", labels)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout
    perfect_predictions(labels, tmp_path / "predictions")
    result = xstilts("score", "--benchmark", benchmark, "--predictions",
                     tmp_path / "predictions", "--labels", labels, "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    task_keys = [k for k, v in scores.items() if isinstance(v, dict)]
    assert len(task_keys) == tasks
    assert scores["all_task"] == pytest.approx(100.0)
    for key in task_keys:
        assert scores[key]["avg_metric"] == pytest.approx(100.0), key
    assert "qa" in scores and "tagging" in scores


def test_one_wrong_label_costs_exactly_one_example(synthetic_data: Path, tmp_path: Path
                                                   ) -> None:
    labels, predictions = tmp_path / "labels", tmp_path / "predictions"
    assert xstilts("data", "labels", "--benchmark", "xtreme", "--tasks", "xnli",
                   "--data", synthetic_data, "--out", labels).returncode == 0
    shutil.copytree(labels, predictions)
    path = predictions / "xnli" / "test-de.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = "neutral" if lines[0] != "neutral" else "entailment"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = xstilts("score", "--benchmark", "xtreme", "--predictions", predictions,
                     "--labels", labels, "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    n = len(lines)
    assert scores["xnli"]["accuracy"]["de"] == pytest.approx(100 * (n - 1) / n)
    assert scores["xnli"]["accuracy"]["fr"] == pytest.approx(100.0)
    assert scores["xnli"]["avg_metric"] == pytest.approx((100 * 14 + 100 * (n - 1) / n) / 15)
    assert "all_task" not in scores and "classification" not in scores  # pawsx absent


def test_score_bad_input_is_one_clear_line(synthetic_data: Path, tmp_path: Path) -> None:
    labels, predictions = tmp_path / "labels", tmp_path / "predictions"
    assert xstilts("data", "labels", "--benchmark", "xtreme", "--tasks", "pawsx",
                   "--data", synthetic_data, "--out", labels).returncode == 0
    shutil.copytree(labels, predictions)
    (predictions / "pawsx" / "test-ko.tsv").unlink()
    output = tmp_path / "scores.json"
    result = xstilts("score", "--benchmark", "xtreme", "--predictions", predictions,
                     "--labels", labels, "--output", output)
    assert_user_error(result, str(predictions / "pawsx" / "test-ko.tsv"))
    assert len(result.stderr.strip().splitlines()) <= 3  # one message (rich may wrap it)
    assert not output.exists()
    shutil.copy(labels / "pawsx" / "test-ko.tsv", predictions / "pawsx" / "test-ko.tsv")
    (predictions / "xnlii").mkdir()
    assert_user_error(xstilts("score", "--benchmark", "xtreme", "--predictions", predictions,
                              "--labels", labels), "xnlii")
    assert_user_error(xstilts("score", "--benchmark", "xtreme-s", "--predictions",
                              predictions, "--labels", labels), "xtreme-s")


def test_fetch_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert_user_error(xstilts("data", "fetch", "--tasks", "xnli,nope", "--out", out),
                      "unknown task 'nope'")
    assert_user_error(xstilts("data", "fetch", "--source", "web", "--out", out),
                      "unknown source 'web'")
    assert_user_error(xstilts("data", "fetch", "--pin", "google/xtreme", "--out", out),
                      "expected DATASET=REVISION")
    # Licensed CCG files absent: a clear error, and nothing written.
    result = xstilts("data", "fetch", "--source", "hub", "--tasks", "ccg", "--out", out,
                     "--raw", tmp_path / "raw")
    assert_user_error(result, "train.tsv", "LDC2005T13")
    assert not (out / "manifest.json").exists() and not (out / "ccg").exists()


def test_config_pins_and_data_section(tmp_path: Path) -> None:
    config = tmp_path / "study.yaml"
    config.write_text("data:\n  source: synthetic\n  revisions: {google/xtreme: abc}\n"
                      "  colour: blue\n", encoding="utf-8")
    assert_user_error(xstilts("data", "fetch", "--config", config), "data.colour")
    config.write_text("data: [unclosed\n", encoding="utf-8")
    assert_user_error(xstilts("data", "fetch", "--config", config), "not valid YAML")


def test_synthetic_and_real_data_never_share_a_folder(synthetic_data: Path) -> None:
    result = xstilts("data", "fetch", "--source", "hub", "--tasks", "ccg",
                     "--out", synthetic_data)
    assert_user_error(result, "already holds synthetic data")
