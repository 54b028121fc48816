"""The study's Prometheus alerts, with the real promtool: the PrometheusRule each overlay
renders passes `promtool check rules`, and `promtool test rules` runs the unit tests in
k8s/tests/alerts-test.yaml against it (every alert fires on some series and stays quiet
on others). The Grafana dashboard's queries are checked to parse as PromQL the same way."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "k8s"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
ALERT_TESTS = K8S / "tests" / "alerts-test.yaml"
DASHBOARD = K8S / "components" / "monitoring" / "dashboards" / "xstilts.json"

ALERTS = {"XstiltsTrainingStalled", "XstiltsStageFailed", "XstiltsNoSuccessfulRun",
          "XstiltsTrainLossNaN", "XstiltsGPUIdleWhileAllocated", "XstiltsPushgatewayPushFailing"}


def tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed or not on PATH: {why}", pytrace=False)
    return path


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = tool("promtool", "the alert tests run `promtool check rules` and `promtool test "
                           "rules` (Debian/Ubuntu: apt-get install prometheus)")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def rule_spec(overlay: Path) -> dict:
    """The `spec` of the PrometheusRule the overlay renders: a Prometheus rule file."""
    exe = tool("kubectl", "the rules are rendered with `kubectl kustomize`")
    proc = subprocess.run([exe, "kustomize", str(overlay)], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"`kubectl kustomize {overlay}` failed:\n{proc.stderr}", pytrace=False)
    rules = [d for d in yaml.safe_load_all(proc.stdout) if d and d.get("kind") == "PrometheusRule"]
    assert len(rules) == 1, f"{overlay.name}: expected one PrometheusRule, got {len(rules)}"
    return rules[0]["spec"]


@pytest.fixture(scope="module", params=OVERLAYS, ids=[p.name for p in OVERLAYS])
def rules_dir(request, tmp_path_factory) -> Path:
    """A folder with the overlay's rules.yaml and a copy of the alert unit tests."""
    folder = tmp_path_factory.mktemp(f"rules-{request.param.name}")
    (folder / "rules.yaml").write_text(yaml.safe_dump(rule_spec(request.param), sort_keys=False))
    shutil.copy(ALERT_TESTS, folder / ALERT_TESTS.name)
    return folder


def alert_rules(spec: dict) -> dict[str, dict]:
    return {r["alert"]: r for g in spec["groups"] for r in g["rules"] if "alert" in r}


def test_rules_pass_promtool_check(rules_dir: Path) -> None:
    proc = promtool("check", "rules", "rules.yaml", cwd=rules_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in proc.stdout, proc.stdout


def test_alert_unit_tests_pass(rules_dir: Path) -> None:
    proc = promtool("test", "rules", ALERT_TESTS.name, cwd=rules_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout, proc.stdout


def test_every_alert_is_complete(rules_dir: Path) -> None:
    """The alerts the study needs, each with a `for`, a severity and annotations that say
    which study/stage/pod it is about."""
    rules = alert_rules(yaml.safe_load((rules_dir / "rules.yaml").read_text()))
    assert set(rules) == ALERTS
    for name, rule in rules.items():
        assert rule.get("for"), f"{name}: no `for`"
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        annotations = rule["annotations"]
        assert {"summary", "description"} <= annotations.keys(), name
        assert "$labels." in annotations["summary"] + annotations["description"], name


def test_every_alert_fires_and_stays_quiet_in_the_unit_tests() -> None:
    """k8s/tests/alerts-test.yaml covers every alert both ways: an evaluation where it
    fires (exp_alerts listed) and one where it must not (exp_alerts empty), next to
    input series that must not fire (more series groups than firing alerts)."""
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fires: dict[str, int] = {}
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            name = check["alertname"]
            if check.get("exp_alerts"):
                fires[name] = max(fires.get(name, 0), len(check["exp_alerts"]))
                series = {re.sub(r"^[^{]*", "", s["series"]) for s in case["input_series"]}
                assert len(series) > len(check["exp_alerts"]), \
                    f"{case['name']}: every series of {name} fires; add one that must not"
            else:
                quiet.add(name)
    assert set(fires) == ALERTS, f"no firing case for {sorted(ALERTS - set(fires))}"
    assert quiet == ALERTS, f"no quiet case for {sorted(ALERTS - quiet)}"


def test_the_unit_tests_can_fail(rules_dir: Path) -> None:
    """promtool really checks the expectations: a stalled-training rule that ignores
    stage completion fires on the completed stage too, and the unit tests catch it."""
    spec = yaml.safe_load((rules_dir / "rules.yaml").read_text())
    alert_rules(spec)["XstiltsTrainingStalled"]["expr"] = \
        "time() - xstilts_train_last_progress_timestamp_seconds > 1800"
    (rules_dir / "broken.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    tests = ALERT_TESTS.read_text().replace("  - rules.yaml", "  - broken.yaml")
    (rules_dir / "broken-test.yaml").write_text(tests)
    proc = promtool("test", "rules", "broken-test.yaml", cwd=rules_dir)
    assert proc.returncode != 0 and 'seed="2"' in proc.stdout + proc.stderr, proc.stdout


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each panel query, with Grafana's variables replaced by values, parses as PromQL:
    written as recording rules and checked by promtool."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = []

    def walk(panels: list) -> None:
        for panel in panels:
            exprs.extend(t["expr"] for t in panel.get("targets") or [] if t.get("expr"))
            walk(panel.get("panels") or [])

    walk(dashboard["panels"])
    assert exprs

    def substitute(expr: str) -> str:
        expr = re.sub(r"\$__(rate_)?interval|\$__range", "5m", expr)
        return re.sub(r"\$\{?\w+\}?", ".*", expr)  # $study, ${study}: "all"

    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"xstilts:dashboard_query_{i}", "expr": substitute(e)}
        for i, e in enumerate(exprs)]}]}
    (tmp_path / "dashboard-rules.yaml").write_text(yaml.safe_dump(rules))
    proc = promtool("check", "rules", "dashboard-rules.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
