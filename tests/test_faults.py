"""Faults with real processes and real failures, no mocks: a training stage killed with
SIGKILL resumes and ends with the scores of an uninterrupted run; a full disk (a file-size
limit) gives one clear error and leaves nothing half-written; a DVC remote without
credentials is one clear error."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from test_cli import assert_user_error
from test_versioning import dvc, dvc_repo, synthetic
from xstilts.data.versioning import record
from xstilts.runner import prepare_data, prepare_models
from xstilts.study import load_study

STUDY = """\
name: faults
architectures: [tiny-mbert]
intermediate: [none]
targets: [xnli]
recipe: smoke
budget: {{max_steps: 120, max_train_examples: 400, max_eval_examples: 12}}
data: {{out: {data}}}
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study config whose data and tiny model are ready (the smoke recipe validates,
    and saves its resume state, every 40 of its 120 steps)."""
    folder = tmp_path_factory.mktemp("faults")
    path = folder / "study.yaml"
    path.write_text(STUDY.format(data=folder / "data"))
    config = load_study(path)
    prepare_data(config)
    prepare_models(config)
    return path


def run_engine(config: Path, out: Path, **popen: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xstilts.cli", "run", str(config),
                             "--backend", "engine", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def test_sigkill_mid_training_resumes_to_the_same_scores(study: Path, tmp_path: Path) -> None:
    code, _, stderr = finish(run_engine(study, tmp_path / "reference"))
    assert code == 0, stderr
    killed = tmp_path / "killed"
    process = run_engine(study, killed, start_new_session=True)
    deadline = time.monotonic() + 300
    saved: list[Path] = []
    while not saved and time.monotonic() < deadline and process.poll() is None:
        saved = list((killed / "stages" / "resume").rglob("resume.pt"))
        time.sleep(0.05)
    assert saved, "the training stage never saved its resume state"
    os.killpg(process.pid, signal.SIGKILL)  # no cleanup handlers run
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert saved[0].is_file() and not list((killed / "stages" / "target").glob("*/done.json"))
    assert not (killed / "scores.parquet").exists()
    code, _, stderr = finish(run_engine(study, killed))
    assert code == 0, stderr
    pd.testing.assert_frame_equal(pd.read_parquet(killed / "scores.parquet"),
                                  pd.read_parquet(tmp_path / "reference" / "scores.parquet"))
    logs = [json.loads(next((run / "stages" / "target").glob("*/training_log.json"))
                       .read_text()) for run in (killed, tmp_path / "reference")]
    assert logs[0]["results"][0]["history"] == logs[1]["results"][0]["history"]
    assert logs[0]["results"][0]["resumed_from"] in (40, 80)  # a saved state, not step 0
    assert logs[1]["results"][0]["resumed_from"] is None
    assert not list((killed / "stages" / "resume").rglob("*.pt"))  # done: state removed


def _file_size_limit(limit: int):
    def apply() -> None:  # in the child: writes past ``limit`` bytes fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_is_one_clear_error_and_nothing_half_written(study: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = finish(run_engine(study, out,
                                             preexec_fn=_file_size_limit(200_000)))
    assert code == 1, stderr
    assert "could not write" in stderr and "File too large" in stderr
    assert "Traceback" not in stderr
    assert not (out / "scores.parquet").exists()
    # whatever is visible is complete: every file parses
    for path in out.rglob("*"):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(out).parts):
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".prom":
                list(text_string_to_metric_families(path.read_text()))
            elif path.suffix == ".parquet":
                pd.read_parquet(path)
    code, _, stderr = finish(run_engine(study, out))  # space again: it completes
    assert code == 0, stderr
    assert len(pd.read_parquet(out / "scores.parquet")) > 0


def test_full_disk_while_fetching_keeps_the_folder_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "xstilts.cli", "data", "fetch", "--source",
                             "synthetic", "--tasks", "xnli", "--out", str(out)],
                            capture_output=True, text=True, preexec_fn=_file_size_limit(4000))
    assert result.returncode == 1 and "could not write" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "manifest.json").exists() and not list(out.rglob("*.parquet"))


def test_dvc_remote_without_credentials_is_one_clear_error(tmp_path: Path) -> None:
    repo = dvc_repo(tmp_path)
    dvc(repo, "remote", "add", "-f", "-d", "s3", "s3://xstilts-test-bucket/data")
    dvc(repo, "remote", "modify", "s3", "endpointurl", "http://127.0.0.1:9")
    data = repo / "data"
    synthetic(data, ["xnli"])
    record(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)  # no ~/.aws either
    result = subprocess.run([sys.executable, "-m", "xstilts.cli", "data", "push", "--data",
                             str(data)], capture_output=True, text=True, env=env)
    assert_user_error(result, "could not push to the default DVC remote")
    assert "credentials" in result.stderr.lower()
