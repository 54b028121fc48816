"""Metrics with the real servers: Debian's Pushgateway and Prometheus on loopback, a real
training stage pushing, Prometheus scraping the gateway, PromQL on the result; and a stage
that completes with one warning when the gateway is down."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from xstilts.monitoring import metrics as monitoring
from xstilts.monitoring.metrics import GATEWAY_ENV, Identity, observed
from xstilts.runner import run_study
from xstilts.study import StudyConfig

STUDY = {
    "name": "monitored",
    "architectures": ["tiny-mbert"],
    "intermediate": ["none", "mnli"],
    "targets": ["xnli"],
    "recipe": "smoke",
    "budget": {"max_steps": 3, "max_train_examples": 32, "max_eval_examples": 12},
}
DEBIAN = "Debian packages prometheus and prometheus-pushgateway (scripts/setup.sh installs them)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: the monitoring tests need the {DEBIAN}")
    return path


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {seconds} s")


def start_gateway(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([binary("prometheus-pushgateway"),
                                f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=open(tmp / "gw.log", "w"))
    address = f"http://127.0.0.1:{port}"
    wait_ready(f"{address}/-/ready", process)
    return process, address


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("prometheus")
    gateway, gateway_url = start_gateway(tmp)
    port = free_port()
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        f"    static_configs: [{{targets: ['{gateway_url[len('http://'):]}']}}]\n")
    prometheus = subprocess.Popen(
        [binary("prometheus"), f"--config.file={tmp / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp / "prometheus.log", "w"))
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", prometheus)
        yield {"gateway": gateway_url, "prometheus": f"http://127.0.0.1:{port}"}
    finally:
        for process in (prometheus, gateway):
            process.terminate()
            process.wait(timeout=20)


def promql(base: str, query: str) -> list[dict]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def eventually(base: str, query: str, seconds: float = 30) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = promql(base, query)
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"no samples for {query} after {seconds} s")


@pytest.fixture(scope="module")
def pushed_run(servers: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    data = tmp_path_factory.mktemp("mon-data") / "data"
    config = StudyConfig.model_validate({
        **STUDY, "data": {"out": str(data)},
        "monitoring": {"pushgateway": servers["gateway"]}})
    run_dir = tmp_path_factory.mktemp("mon-run") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(GATEWAY_ENV, raising=False)
        record = run_study(config, run_dir)
    return run_dir, record


def test_training_and_evaluation_reach_prometheus(servers: dict, pushed_run) -> None:
    run_dir, _ = pushed_run
    base = servers["prometheus"]
    steps = eventually(base, 'xstilts_train_steps_total{study="monitored",stage="target"}')
    assert {r["metric"]["intermediate"] for r in steps} == {"none", "mnli"}
    assert all(float(r["value"][1]) == STUDY["budget"]["max_steps"] for r in steps)
    assert all(r["metric"]["job"] == "xstilts" and "run" not in r["metric"] for r in steps)
    tokens = eventually(base, 'sum(xstilts_train_tokens_total{study="monitored"})')
    assert float(tokens[0]["value"][1]) > 0
    scores = pd.read_parquet(run_dir / "scores.parquet")
    german = scores[(scores["language"] == "de") & (scores["intermediate"] == "mnli")]
    result = eventually(base, 'xstilts_eval_score_ratio{study="monitored",language="de",'
                              'intermediate="mnli",task="xnli"}')
    assert float(result[0]["value"][1]) == pytest.approx(german["value"].iloc[0] / 100)
    assert float(eventually(base, 'xstilts_run_success{study="monitored"}')[0]["value"][1]) \
        == 1
    heartbeat = eventually(base, 'time() - max(xstilts_train_last_progress_timestamp_seconds'
                                 '{study="monitored"})')
    assert 0 <= float(heartbeat[0]["value"][1]) < 600
    failed = promql(base, 'xstilts_stage_success{study="monitored"} == 0')
    assert failed == []


def test_metrics_file_covers_every_stage(pushed_run) -> None:
    run_dir, record = pushed_run
    families = {f.name: f for f in text_string_to_metric_families(
        (run_dir / "metrics.prom").read_text(encoding="utf-8"))}
    outcomes = families["xstilts_stage_success"].samples
    stages = {(s.labels["stage"], s.labels["task"], s.labels["intermediate"])
              for s in outcomes if s.labels["stage"] not in ("data", "report")}
    ran = [t for t in record["timings"] if t["status"] == "ran"]
    assert len(stages) == len(ran) == record["stages"]
    assert sorted(s.labels["stage"] for s in outcomes
                  if s.labels["stage"] in ("data", "report")) == ["data", "report"]
    trained = {(s.labels["stage"], s.labels["intermediate"])
               for s in families["xstilts_train_steps"].samples}
    assert trained == {("intermediate", "mnli"), ("target", "none"), ("target", "mnli")}
    languages = {s.labels["language"] for s in families["xstilts_eval_score_ratio"].samples}
    assert {"de", "sw", "zh"} <= languages
    assert [s.value for s in families["xstilts_run_success"].samples] == [1.0]
    for sample in families["xstilts_train_steps"].samples:
        assert set(sample.labels) <= {"job", "study", "stage", "architecture", "intermediate",
                                      "task", "seed"}


def test_stage_completes_and_warns_once_when_the_gateway_is_down(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    gateway, address = start_gateway(tmp_path)
    gateway.terminate()
    gateway.wait(timeout=20)
    monkeypatch.setenv(GATEWAY_ENV, address)
    monkeypatch.setattr(monitoring, "_warned", False)
    config = StudyConfig.model_validate({**STUDY, "intermediate": ["none"],
                                         "data": {"out": str(tmp_path / "data")}})
    with caplog.at_level(logging.WARNING, logger="xstilts.monitoring.metrics"):
        record = run_study(config, tmp_path / "run")
    assert record["stages"] == 2 and (tmp_path / "run" / "scores.parquet").is_file()
    warnings = [r for r in caplog.records if "could not push" in r.getMessage()]
    assert len(warnings) == 1 and address in warnings[0].getMessage()
    assert "xstilts_stage_success" in (tmp_path / "run" / "metrics.prom").read_text()


def test_a_failed_stage_records_its_failure(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GATEWAY_ENV, raising=False)
    identity = Identity.for_stage("s", "target", "tiny-mbert", "none", 0, "xnli")
    with pytest.raises(ValueError):
        with observed(identity, tmp_path):
            raise ValueError("boom")
    (file,) = tmp_path.glob("*.prom")
    samples = {s.name: s for f in text_string_to_metric_families(file.read_text())
               for s in f.samples}
    assert samples["xstilts_stage_success"].value == 0
    assert samples["xstilts_stage_success"].labels["task"] == "xnli"
    assert "xstilts_train_steps_total" not in samples  # an evaluation-free, step-free stage
