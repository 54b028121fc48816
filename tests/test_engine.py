"""The study engine end to end on tiny models and synthetic data: every stage kind runs,
results land in the run folder, reruns skip finished stages, and scores are reproducible."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from xstilts.runner import run_study
from xstilts.study import StudyConfig

STUDY = {
    "name": "mini",
    "architectures": ["tiny-mbert", "tiny-mt5"],
    "intermediate": ["none", "mnli_squad"],
    "mixtures": {"mnli_squad": ["mnli", "squad_v1"]},
    "targets": ["xnli", "udpos", "mlqa", "xquad", "bucc2018", "tatoeba"],
    "recipe": "smoke",
    "budget": {"max_steps": 4, "max_train_examples": 48, "max_eval_examples": 12},
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine") / "data"


def config(data_dir: Path, **changes) -> StudyConfig:
    return StudyConfig.model_validate({**STUDY, "data": {"out": str(data_dir)}, **changes})


@pytest.fixture(scope="module")
def first_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    run_dir = tmp_path_factory.mktemp("run") / "one"
    return run_dir, run_study(config(data_dir), run_dir)


def test_run_folder_holds_scores_gains_predictions_and_report(first_run) -> None:
    run_dir, summary = first_run
    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert (run_dir / "scores.csv").exists() and (run_dir / "gains.csv").exists()
    cells = scores[scores["metric"] == "task_score"]
    # a score for every (architecture, intermediate, target, language)
    expected = {"xnli": 15, "udpos": 38, "mlqa": 7, "xquad": 12, "bucc2018": 4, "tatoeba": 41}
    for target, languages in expected.items():
        per_cell = cells[cells["target"] == target].groupby(["architecture", "intermediate"])
        assert per_cell.size().tolist() == [languages] * 4, target
    gains = pd.read_parquet(run_dir / "gains.parquet")
    assert set(gains["intermediate"]) == {"mnli_squad"}
    assert set(gains["architecture"]) == {"tiny-mbert", "tiny-mt5"}
    row = gains.iloc[0]
    assert row["gain"] == pytest.approx(row["value"] - row["baseline"])
    prediction = run_dir / "predictions" / "tiny-mt5" / "mnli_squad" / "0" / "mlqa" / "test-zh.json"
    assert isinstance(json.loads(prediction.read_text(encoding="utf-8")), dict)
    assert (run_dir / "predictions" / "tiny-mbert" / "none" / "0" / "bucc2018" /
            "test-de.tsv").exists()
    report = (run_dir / "report" / "report.md").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in report and "mnli_squad" in report
    assert (run_dir / "report" / "report.html").exists()
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert run["data_version"] == summary["data_version"] and len(run["data_version"]) == 64
    assert run["code_version"] and run["config"]["name"] == "mini"
    assert all(t["status"] == "ran" for t in run["timings"])
    dev = {(d["architecture"], d["intermediate"], d["target"]) for d in run["english_dev"]}
    assert ("tiny-mt5", "mnli_squad", "xquad") in dev and len(dev) == 2 * 2 * 3
    assert all(0 <= d["dev_score"] <= 100 for d in run["english_dev"])
    assert "English dev score" in report


def test_intermediate_models_are_trained_once(first_run) -> None:
    run_dir, summary = first_run
    intermediate = [t for t in summary["timings"] if t["stage"].startswith("intermediate/")]
    assert len(intermediate) == 2  # one per architecture, shared by every target
    targets = [t["stage"] for t in summary["timings"] if t["stage"].startswith("target/")]
    assert not any(t.endswith("/mlqa") for t in targets)  # shares XQuAD's SQuAD model
    log = json.loads(next((run_dir / "stages" / "intermediate").glob("*/training_log.json"))
                     .read_text(encoding="utf-8"))
    assert log["tasks"] == ["mnli", "squad_v1"] and log["result"]["steps"] == 4


def test_rerun_trains_nothing_and_resumes_after_interruption(first_run, data_dir) -> None:
    run_dir, _ = first_run
    again = run_study(config(data_dir), run_dir)
    assert {t["status"] for t in again["timings"]} == {"skipped"}
    before = pd.read_parquet(run_dir / "scores.parquet")
    # An interrupted run leaves some stages without output: only those run again.
    evaluations = sorted((run_dir / "stages" / "evaluate").iterdir())[:2]
    for folder in evaluations:
        shutil.rmtree(folder)
    resumed = run_study(config(data_dir), run_dir)
    ran = [t for t in resumed["timings"] if t["status"] == "ran"]
    assert sorted(t["key"] for t in ran) == sorted(f.name for f in evaluations)
    pd.testing.assert_frame_equal(before, pd.read_parquet(run_dir / "scores.parquet"))


def test_same_config_seed_and_data_give_identical_scores(first_run, data_dir, tmp_path) -> None:
    run_dir, _ = first_run
    other = run_study(config(data_dir), tmp_path / "two")
    assert all(t["status"] == "ran" for t in other["timings"])
    # The second run read its encoded features from the cache the first one filled.
    assert len(list((Path(os.environ["XSTILTS_CACHE"]) / "features").glob("*.pt"))) > 10
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "scores.parquet"),
                                  pd.read_parquet(tmp_path / "two" / "scores.parquet"))


def test_cli_run_and_bad_architecture(data_dir, tmp_path) -> None:
    """The engine backend on four more target types through the CLI (the default kfp.local
    backend has its own end-to-end tests in test_local_pipeline), then a bad name refused
    by the default backend before anything runs."""
    study = {**STUDY, "data": {"out": str(data_dir)}, "architectures": ["tiny-xlmr"],
             "intermediate": ["none"], "targets": ["pawsx", "xcopa", "mewslix", "lareqa"]}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "xstilts.cli", "run", str(path),
                             "--backend", "engine", "--out", str(tmp_path / "run")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout and "scores.csv" in result.stdout
    scores = pd.read_csv(tmp_path / "run" / "scores.csv")
    assert set(scores["target"]) == {"pawsx", "xcopa", "mewslix", "lareqa"}
    assert set(scores[scores["target"] == "mewslix"]["metric"]) == {"map@20", "task_score"}
    assert scores[scores["target"] == "lareqa"]["language"].nunique() == 11
    study["architectures"] = ["tiny-bert"]
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "xstilts.cli", "run", str(path), "--out",
                             str(tmp_path / "run2")], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "tiny-bert" in result.stderr and "tiny-mbert" in result.stderr
    assert not (tmp_path / "run2" / "scores.csv").exists()
