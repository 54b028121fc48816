"""The study pipeline through kfp.local (SubprocessRunner, use_venv=False): the same scores
as the in-process engine, a rerun that runs only what is missing, the Kubeflow UI's
artifacts (per-language metrics and confusion matrices, report), and a gate that stops
the run before any training."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

pytest.importorskip("kfp.local")

from pipelines.local import KFP_DIR, PipelineFailed, run_local  # noqa: E402
from xstilts.runner import run_study  # noqa: E402
from xstilts.study import StudyConfig  # noqa: E402

STUDY = {
    "name": "mini-kfp",
    "architectures": ["tiny-mbert"],
    "intermediate": ["none", "mnli"],
    "targets": ["xnli", "tatoeba"],
    "recipe": "smoke",
    "budget": {"max_steps": 4, "max_train_examples": 48, "max_eval_examples": 12},
}
STAGES = 7  # 1 intermediate, 2 target trainings, 4 evaluations
SERVICE = 5  # the gate, one collect task, the report, publish and the exit task


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> StudyConfig:
    data = tmp_path_factory.mktemp("kfp-data") / "data"
    return StudyConfig.model_validate({**STUDY, "data": {"out": str(data)}})


@pytest.fixture(scope="module")
def local_run(config: StudyConfig, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, dict, list]:
    run_dir = tmp_path_factory.mktemp("kfp-run") / "run"
    events: list[tuple[str, str]] = []
    record = run_local(config, run_dir, lambda status, label, _: events.append((status, label)))
    return run_dir, record, events


def outputs(run_dir: Path, task: str) -> Path:
    """The output folder of ``task`` in the (only) pipeline run under ``run_dir``."""
    (folder,) = [p for p in (run_dir / KFP_DIR / "outputs").glob(f"*/{task}") if p.is_dir()]
    return folder


def test_same_scores_as_the_engine(config: StudyConfig, local_run, tmp_path: Path) -> None:
    run_dir, record, _ = local_run
    run_study(config, tmp_path / "engine")
    ours = pd.read_parquet(run_dir / "scores.parquet")
    engine = pd.read_parquet(tmp_path / "engine" / "scores.parquet")
    assert len(ours) > 0
    pd.testing.assert_frame_equal(ours, engine)
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "gains.parquet"),
                                  pd.read_parquet(tmp_path / "engine" / "gains.parquet"))
    engine_run = json.loads((tmp_path / "engine" / "run.json").read_text(encoding="utf-8"))
    assert record["english_dev"] == engine_run["english_dev"]


def test_run_folder_and_record(local_run) -> None:
    run_dir, record, events = local_run
    assert record["backend"] == "kfp.local"
    assert record["outcome"]["state"] == "SUCCEEDED"
    assert len(record["data_version"]) == 64 and record["code_version"]
    assert record["outcome"]["data_version"] == record["data_version"]
    assert record["config"]["name"] == "mini-kfp" and record["stages"] == STAGES
    # every stage and service task ran once
    assert record["tasks"] == {"total": STAGES + SERVICE, "finished": STAGES + SERVICE}
    finished = [label for status, label in events if status == "finished"]
    assert finished[0] == "validate data" and finished[-1] == "record outcome"
    assert "intermediate/tiny-mbert/mnli/seed0" in finished
    assert (run_dir / "report" / "report.md").read_text(encoding="utf-8").count("mnli")
    assert (run_dir / "predictions" / "tiny-mbert" / "mnli" / "0" / "xnli" /
            "test-de.tsv").is_file()


def test_per_language_metrics_and_confusion_matrices(local_run) -> None:
    run_dir, _, _ = local_run
    scores = pd.read_parquet(run_dir / "scores.parquet")
    for task in ("evaluate-xnli", "evaluate-xnli-2"):
        folder = outputs(run_dir, task)
        metrics = json.loads((folder / "metrics").read_text(encoding="utf-8"))
        assert {f"xnli.{lang}.accuracy" for lang in ("de", "sw", "zh")} <= set(metrics)
        german = json.loads((folder / "confusion_de").read_text(encoding="utf-8"))
        matrix = german["confusionMatrix"]
        assert [a["displayName"] for a in matrix["annotationSpecs"]] == \
            ["entailment", "neutral", "contradiction"]
        counts = [row["row"] for row in matrix["rows"]]
        assert sum(map(sum, counts)) == 12  # max_eval_examples
        accuracy = 100 * sum(counts[i][i] for i in range(3)) / 12
        german_scores = scores[(scores["target"] == "xnli") & (scores["language"] == "de")
                               & (scores["metric"] == "accuracy")]["value"]
        assert any(value == pytest.approx(accuracy) for value in german_scores)
    report = outputs(run_dir, "report")
    assert "mnli" in (report / "markdown").read_text(encoding="utf-8")
    page = (report / "html").read_text(encoding="utf-8")
    assert "<html" in page.lower()
    assert '<img src="data:image/png;base64,' in page  # self-contained for the Kubeflow UI


def test_rerun_runs_only_what_is_missing(config: StudyConfig, local_run) -> None:
    run_dir, first, _ = local_run
    before = pd.read_parquet(run_dir / "scores.parquet")
    (run_dir / "scores.parquet").unlink()  # published again from the cached report
    again = run_local(config, run_dir)
    # the gate, publish and the exit task run again; stages, collect and report are cached
    assert again["tasks"] == {"total": STAGES + SERVICE, "finished": 3, "cached": STAGES + 2}
    assert again["data_version"] == first["data_version"]
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "scores.parquet"), before)


def test_other_data_stops_at_the_gate(config: StudyConfig, tmp_path: Path) -> None:
    with pytest.raises(PipelineFailed) as failed:
        run_local(config, tmp_path / "run", data_version="0" * 64)
    message = str(failed.value)
    assert "stage 'validate data' failed" in message and "holds data version" in message
    assert "rerun the same command" in message
    ran = {p.name for p in (tmp_path / "run" / KFP_DIR / "outputs").glob("*/*")}
    assert ran == {"validate-data", "record-outcome"}
    outcome = json.loads((tmp_path / "run" / "outcome.json").read_text(encoding="utf-8"))
    assert outcome["state"] == "FAILED"
