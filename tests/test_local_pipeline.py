"""The study pipeline through kfp.local (SubprocessRunner, use_venv=False): the same scores
as the in-process engine, a rerun that runs only what is missing, the Kubeflow UI's
artifacts (per-language metrics and confusion matrices, report), and a gate that stops
the run before any training."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

pytest.importorskip("kfp.local")

from pipelines.local import KFP_DIR, PipelineFailed, run_local  # noqa: E402
from test_validation import rewrite_table, set_cell  # noqa: E402
from test_versioning import dvc_repo, git, synthetic  # noqa: E402
from xstilts.data.fetch import read_manifest  # noqa: E402
from xstilts.data.versioning import data_version_at, push, record  # noqa: E402
from xstilts.runner import prepare_data, run_study  # noqa: E402
from xstilts.study import StudyConfig  # noqa: E402


def data_tasks(study: dict) -> list[str]:
    return StudyConfig.model_validate(study).data_tasks()

STUDY = {
    "name": "mini-kfp",
    "architectures": ["tiny-mbert"],
    "intermediate": ["none", "mnli"],
    "targets": ["xnli", "tatoeba"],
    "recipe": "smoke",
    "budget": {"max_steps": 4, "max_train_examples": 48, "max_eval_examples": 12},
}
STAGES = 7  # 1 intermediate, 2 target trainings, 4 evaluations
SERVICE = 7  # data preparation, validation and gate, one collect, report, publish, exit


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
    # the collect tasks carry the gold labels, so the pipeline's report has the same
    # example-bootstrap intervals as the engine's
    labels = sorted(p.relative_to(run_dir / "labels")
                    for p in (run_dir / "labels").rglob("*") if p.is_file())
    assert {p.parts[0] for p in labels} == {"xnli", "tatoeba"}
    assert labels == sorted(p.relative_to(tmp_path / "engine" / "labels")
                            for p in (tmp_path / "engine" / "labels").rglob("*") if p.is_file())
    gains = pd.read_csv(run_dir / "report" / "gains_by_target.csv")
    assert gains["example_ci_low"].notna().all() and len(gains) == 2
    assert (run_dir / "report" / "gains_by_target.csv").read_bytes() == \
        (tmp_path / "engine" / "report" / "gains_by_target.csv").read_bytes()


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
    assert finished[:3] == ["prepare data", "validate data", "data gate"]
    assert finished[-1] == "record outcome"
    assert "intermediate/tiny-mbert/mnli/seed0" in finished
    assert (run_dir / "report" / "report.md").read_text(encoding="utf-8").count("mnli")
    assert (run_dir / "predictions" / "tiny-mbert" / "mnli" / "0" / "xnli" /
            "test-de.tsv").is_file()


def test_metrics_file_has_every_stage(local_run) -> None:
    run_dir, _, _ = local_run
    families = {f.name: f for f in text_string_to_metric_families(
        (run_dir / "metrics.prom").read_text(encoding="utf-8"))}
    outcomes = families["xstilts_stage_success"].samples
    assert all(s.value == 1 for s in outcomes)
    kinds = [s.labels["stage"] for s in outcomes]
    assert len(kinds) == STAGES + 2 and kinds.count("data") == kinds.count("report") == 1
    assert set(kinds) == {"data", "intermediate", "target", "evaluate", "report"}
    trained = {(s.labels["stage"], s.labels["intermediate"], s.value)
               for s in families["xstilts_train_steps"].samples}
    assert trained == {("intermediate", "mnli", 4), ("target", "none", 4),
                       ("target", "mnli", 4)}
    scores = {(s.labels["task"], s.labels["language"])
              for s in families["xstilts_eval_score_ratio"].samples}
    assert {("xnli", "de"), ("tatoeba", "de")} <= scores
    assert [s.value for s in families["xstilts_run_success"].samples] == [1.0]


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
    # data preparation, the gate, publish and the exit task run again; validation, the
    # stages, collect and report are cached
    assert again["tasks"] == {"total": STAGES + SERVICE, "finished": 4, "cached": STAGES + 3}
    assert again["data_version"] == first["data_version"]
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "scores.parquet"), before)


def test_other_data_stops_at_the_gate(config: StudyConfig, tmp_path: Path) -> None:
    with pytest.raises(PipelineFailed) as failed:
        run_local(config, tmp_path / "run", data_version="0" * 64)
    message = str(failed.value)
    assert "stage 'prepare data' failed" in message and "holds data version" in message
    assert "rerun the same command" in message
    ran = {p.name for p in (tmp_path / "run" / KFP_DIR / "outputs").glob("*/*")}
    assert ran == {"prepare-data", "record-outcome"}
    outcome = json.loads((tmp_path / "run" / "outcome.json").read_text(encoding="utf-8"))
    assert outcome["state"] == "FAILED"


def test_corrupted_data_stops_at_the_gate(config: StudyConfig, tmp_path: Path) -> None:
    """A label outside XNLI's label set: validation publishes its Data Docs and summary,
    the gate stops the run, and no training task starts."""
    prepare_data(config)
    data = tmp_path / "data"
    shutil.copytree(config.data.out, data)
    rewrite_table(data, "xnli/de/test", set_cell("label", 2, "maybe"))
    corrupted = config.model_copy(update={"data": config.data.model_copy(update={"out": data})})
    with pytest.raises(PipelineFailed) as failed:
        run_local(corrupted, tmp_path / "run")
    message = str(failed.value)
    assert "stage 'data gate' failed" in message and "data validation failed" in message
    assert "xnli test [de]" in message and "expect_column_values_to_be_in_set" in message
    ran = {p.name for p in (tmp_path / "run" / KFP_DIR / "outputs").glob("*/*")}
    assert ran == {"prepare-data", "validate-data", "data-gate", "record-outcome"}
    published = outputs(tmp_path / "run", "validate-data")
    summary = (published / "summary").read_text(encoding="utf-8")
    assert summary.startswith("# Data validation: FAILED") and "maybe" in summary
    with zipfile.ZipFile(published / "data_docs") as docs:
        assert "index.html" in docs.namelist()
        assert any(name.startswith("validations/") for name in docs.namelist())


def test_data_rev_materialises_that_revision(tmp_path: Path) -> None:
    """With data_rev, the first task pulls the data recorded at that git revision; here the
    run is pinned to another version, so it then stops, naming the version it pulled."""
    repo = dvc_repo(tmp_path)
    data = repo / "data"
    first = synthetic(data, data_tasks(STUDY))
    record(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data v1")
    v1 = git(repo, "rev-parse", "HEAD")
    push(data)
    synthetic(data, ["pawsx"])
    record(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data v2")
    assert data_version_at(data, v1) == first["data_version"]
    config = StudyConfig.model_validate({**STUDY, "data": {"out": str(data)}})
    with pytest.raises(PipelineFailed) as failed:
        run_local(config, tmp_path / "run", data_version="0" * 64, data_rev=v1)
    assert f"holds data version {first['data_version']}" in str(failed.value)
    assert read_manifest(data)["data_version"] == first["data_version"]
