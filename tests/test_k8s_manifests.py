"""The Kubernetes manifests in k8s/: every overlay renders with the real kustomize
(`kubectl kustomize`), every object validates against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict) or, for the prometheus-operator CRs, against the JSON Schemas
kept in k8s/schemas/, pod templates meet the security conventions, no Secret carries a
value, and the Grafana dashboard queries only the metrics the study exports. Negative
tests show each check rejects what it should. No cluster and no network needed."""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
import subprocess
import tomllib
from functools import lru_cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "k8s"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
DASHBOARD = K8S / "components" / "monitoring" / "dashboards" / "xstilts.json"

KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes the manifests must be valid for
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring.coreos.com-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring.coreos.com-v1.json",
}

# The metrics the application pushes (src/xstilts/monitoring/metrics.py), all under
# job="xstilts"; dashboards and alerts may use these, the DCGM exporter's DCGM_* metrics
# and the Pushgateway's own push_* metrics, and nothing else.
XSTILTS_METRICS = {
    "xstilts_train_steps_total", "xstilts_train_examples_total", "xstilts_train_tokens_total",
    "xstilts_train_loss", "xstilts_train_learning_rate", "xstilts_train_step_duration_seconds",
    "xstilts_train_planned_steps", "xstilts_train_last_progress_timestamp_seconds",
    "xstilts_gpu_peak_memory_bytes", "xstilts_eval_score_ratio",
    "xstilts_stage_duration_seconds", "xstilts_stage_success",
    "xstilts_stage_completion_timestamp_seconds",
    "xstilts_run_success", "xstilts_run_duration_seconds",
    "xstilts_run_completion_timestamp_seconds", "xstilts_run_last_success_timestamp_seconds",
}
OTHER_METRIC_PREFIXES = ("DCGM_", "push_")

WORKLOAD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}


# ------------------------------------------------------------------------------ helpers


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl is not installed or not on PATH: the manifest tests render the "
                    "overlays with `kubectl kustomize` (kubectl >= 1.27, kustomize v5)",
                    pytrace=False)
    return path


@lru_cache(maxsize=None)
def _render(path: Path) -> tuple[dict, ...]:
    proc = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"`kubectl kustomize {path.relative_to(ROOT)}` failed:\n{proc.stderr}",
                    pytrace=False)
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def render(path: Path) -> list[dict]:
    """The objects an overlay renders to (a fresh copy, safe to modify)."""
    return copy.deepcopy(list(_render(path)))


def ident(obj: dict) -> str:
    meta = obj.get("metadata", {})
    return f"{obj.get('kind')}/{meta.get('namespace', '-')}/{meta.get('name')}"


def validation_errors(obj: dict) -> list[str]:
    """Why ``obj`` is invalid: CRs against k8s/schemas, the rest against Kubernetes'."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in CRD_SCHEMAS:
        schema = json.loads((K8S / "schemas" / CRD_SCHEMAS[key]).read_text())
        validator = jsonschema.Draft202012Validator(schema)
        return [f"{ident(obj)}: {'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in validator.iter_errors(obj)]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(map(str, exc.path)) or "<root>"
        return [f"{ident(obj)}: {where}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{ident(obj)}: no schema to validate it against ({exc.message}); add one to "
                f"k8s/schemas/ and CRD_SCHEMAS"]
    return []


def pod_spec(obj: dict) -> dict:
    spec = obj["spec"]
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec["template"]["spec"]


def security_problems(obj: dict) -> list[str]:
    """What a workload's pod template lacks of the security conventions
    (reference/mlops.md section 8): non-root with explicit non-zero uid and gid, no privilege
    escalation, every capability dropped, RuntimeDefault seccomp, read-only root filesystem,
    CPU and memory requests and limits, no API token, no host namespaces or paths."""
    spec = pod_spec(obj)
    pod_sc = spec.get("securityContext") or {}
    problems = []

    def bad(what: str) -> None:
        problems.append(f"{ident(obj)}: {what}")

    if spec.get("automountServiceAccountToken") is not False:
        bad("automountServiceAccountToken is not false (no xstilts workload calls the API)")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            bad(f"{key} is set")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            bad(f"volume {volume['name']} is a hostPath")
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    if not containers:
        bad("no containers")
    for c in containers:
        name = c.get("name")
        sc = c.get("securityContext") or {}

        def effective(key: str):
            return sc.get(key, pod_sc.get(key))

        if effective("runAsNonRoot") is not True:
            bad(f"container {name}: runAsNonRoot is not true")
        for key in ("runAsUser", "runAsGroup"):
            value = effective(key)
            if not isinstance(value, int) or value == 0:
                bad(f"container {name}: {key} is {value!r}, not a non-zero id")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad(f"container {name}: allowPrivilegeEscalation is not false")
        if sc.get("privileged"):
            bad(f"container {name}: privileged")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad(f"container {name}: capabilities.drop lacks ALL")
        if caps.get("add"):
            bad(f"container {name}: adds capabilities {caps['add']}")
        seccomp = (effective("seccompProfile") or {}).get("type")
        if seccomp != "RuntimeDefault":
            bad(f"container {name}: seccompProfile is {seccomp!r}, not RuntimeDefault")
        if sc.get("readOnlyRootFilesystem") is not True:
            bad(f"container {name}: readOnlyRootFilesystem is not true")
        resources = c.get("resources") or {}
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (resources.get(section) or {}):
                    bad(f"container {name}: no {resource} in resources.{section}")
        image = c.get("image", "")
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1]
                                        or image.endswith(":latest")):
            bad(f"container {name}: image {image!r} is not pinned to a tag or digest")
    return problems


def secret_values(obj: dict) -> list[str]:
    """The keys of a Secret that carry a value (any non-empty data or stringData)."""
    if obj.get("kind") != "Secret":
        return []
    return [f"{ident(obj)}: {section}.{key}"
            for section in ("data", "stringData")
            for key, value in (obj.get(section) or {}).items() if value not in (None, "")]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a Kubernetes label selector matches ``labels``."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if (op == "In" and labels.get(key) not in values) \
                or (op == "NotIn" and key in labels and labels[key] in values) \
                or (op == "Exists" and key not in labels) \
                or (op == "DoesNotExist" and key in labels):
            return False
    return True


_PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                    "offset", "and", "or", "unless", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (identifiers that are not functions,
    keywords, label names or Grafana variables)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # range and subquery durations
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for match in re.finditer(r"(?<![\w$.])[A-Za-z_:][\w:]*", s):
        if s[match.end():].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() in _PROMQL_KEYWORDS:
            continue
        names.add(match.group())
    return names


def unknown_metrics(names: set[str]) -> set[str]:
    return {n for n in names
            if n not in XSTILTS_METRICS and not n.startswith(OTHER_METRIC_PREFIXES)}


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable's metric selector."""
    queries = []

    def walk(panels: list) -> None:
        for panel in panels:
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    queries.append((f"panel {panel.get('title')!r}", target["expr"]))
            walk(panel.get("panels") or [])

    walk(dashboard.get("panels") or [])
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", query)
        assert match, f"variable {var['name']}: unsupported query {query!r}"
        queries.append((f"variable {var['name']!r}", match.group(1)))
    return queries


# ------------------------------------------------------------------------------ rendering


@pytest.fixture(scope="module", params=OVERLAYS, ids=[p.name for p in OVERLAYS])
def overlay(request) -> Path:
    return request.param


def test_at_least_two_overlays() -> None:
    assert len(OVERLAYS) >= 2, f"expected overlays for dev and production, got {OVERLAYS}"


def test_every_object_is_valid(overlay: Path) -> None:
    objects = render(overlay)
    assert objects, f"{overlay} renders nothing"
    errors = [e for obj in objects for e in validation_errors(obj)]
    assert not errors, "invalid objects:\n" + "\n".join(errors)


def test_one_namespace_holds_everything(overlay: Path) -> None:
    objects = render(overlay)
    namespaces = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
    assert len(namespaces) == 1, namespaces
    ns = namespaces[0]
    elsewhere = [ident(o) for o in objects
                 if o["kind"] != "Namespace" and o["metadata"].get("namespace") != ns]
    assert not elsewhere, f"objects outside namespace {ns}: {elsewhere}"
    for binding in (o for o in objects if o["kind"] == "RoleBinding"):
        for subject in binding["subjects"]:
            if subject["kind"] == "ServiceAccount":
                assert subject["namespace"] == ns, f"{ident(binding)} binds {subject}"


def test_the_objects_the_pipeline_expects(overlay: Path) -> None:
    by_kind_name = {(o["kind"], o["metadata"]["name"]): o for o in render(overlay)}

    def get(kind: str, name: str) -> dict:
        assert (kind, name) in by_kind_name, f"{overlay.name}: no {kind} {name}"
        return by_kind_name[(kind, name)]

    for pvc in ("xstilts-cache", "xstilts-checkpoints"):
        get("PersistentVolumeClaim", pvc)
    names = get("ConfigMap", "xstilts-cluster-names")["data"]
    assert names == {
        "PVC_NAME": "xstilts-cache", "PVC_MOUNT": "/mnt/xstilts",
        "CHECKPOINT_PVC_NAME": "xstilts-checkpoints",
        "CHECKPOINT_MOUNT": "/mnt/xstilts-checkpoints",
        "HF_SECRET": "xstilts-hf-token", "DVC_SECRET": "xstilts-dvc-remote",
        "PUSHGATEWAY_URL": "http://xstilts-pushgateway:9091",
        "SERVICE_ACCOUNT": "xstilts-pipeline-runner",
    }
    get("ServiceAccount", "xstilts-pipeline-runner")
    get("RoleBinding", "xstilts-pipeline-runner")
    service = get("Service", "xstilts-pushgateway")
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 9091)]
    deployment = get("Deployment", "xstilts-pushgateway")
    assert deployment["spec"]["replicas"] == 1  # pushed groups live in one process
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()

    monitor = get("ServiceMonitor", "xstilts-pushgateway")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["http"]
    assert all(e["honorLabels"] is True for e in monitor["spec"]["endpoints"])
    rule = get("PrometheusRule", "xstilts")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert [g["name"] for g in rule["spec"]["groups"]] == ["xstilts"]
    dashboard = get("ConfigMap", "xstilts-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["xstilts.json"]) == json.loads(DASHBOARD.read_text())


def _resources_constants() -> dict[str, object]:
    """The literal constants of pipelines/resources.py, read without importing it."""
    tree = ast.parse((ROOT / "pipelines" / "resources.py").read_text())
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass  # computed (f-strings, calls): not a name the manifests repeat
    return constants


def test_names_match_pipelines_resources(overlay: Path) -> None:
    """The names in xstilts-cluster-names are the ones the compiled pipeline uses (those
    of them pipelines/resources.py defines), and the image runs as its RUN_AS_USER."""
    names = next(o for o in render(overlay) if o["kind"] == "ConfigMap"
                 and o["metadata"]["name"] == "xstilts-cluster-names")["data"]
    constants = _resources_constants()
    shared = {key for key in names if key in constants}
    assert {"PVC_NAME", "PVC_MOUNT", "HF_SECRET", "DVC_SECRET"} <= shared
    assert {key: names[key] for key in shared} == {key: constants[key] for key in shared}
    uid = constants["RUN_AS_USER"]
    assert f"USER {uid}:{uid}" in (K8S / "Dockerfile").read_text()


# ------------------------------------------------------------------------------ security


def test_pod_templates_are_locked_down(overlay: Path) -> None:
    workloads = [o for o in render(overlay) if o["kind"] in WORKLOAD_KINDS]
    assert workloads, "expected at least the Pushgateway Deployment"
    problems = [p for w in workloads for p in security_problems(w)]
    assert not problems, "\n".join(problems)


def test_no_secret_carries_a_value(overlay: Path) -> None:
    found = [v for obj in render(overlay) for v in secret_values(obj)]
    assert not found, f"Secrets with values in the rendered {overlay.name} overlay: {found}"


def test_no_secret_file_in_k8s_carries_a_value() -> None:
    """The example Secrets (and anything else under k8s/) are templates only."""
    secrets = []
    for path in sorted(K8S.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                secrets.append(doc)
                assert not validation_errors(doc), validation_errors(doc)
                assert not secret_values(doc), f"{path}: {secret_values(doc)}"
    assert {s["metadata"]["name"] for s in secrets} >= {"xstilts-hf-token", "xstilts-dvc-remote"}
    keys = {s["metadata"]["name"]: set(s["stringData"]) for s in secrets}
    assert keys["xstilts-hf-token"] == {"HF_TOKEN"}
    assert keys["xstilts-dvc-remote"] == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_rbac_is_namespaced_and_narrow(overlay: Path) -> None:
    objects = render(overlay)
    kinds = {o["kind"] for o in objects}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}, "nothing cluster-wide"
    (role,) = [o for o in objects if o["kind"] == "Role"]
    granted = set()
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
        assert "pods/exec" not in rule["resources"], rule
        if {"secrets", "configmaps"} & set(rule["resources"]):
            assert rule.get("resourceNames"), f"{rule}: Secrets/ConfigMaps only by name"
        granted |= {(g, r, v) for g in rule["apiGroups"] for r in rule["resources"]
                    for v in rule["verbs"]}
    needed = {("argoproj.io", "workflowtaskresults", "create"),
              ("argoproj.io", "workflowtaskresults", "patch"),
              ("", "pods", "get"), ("", "pods", "watch"), ("", "pods", "patch"),
              ("", "pods/log", "get")}
    assert needed <= granted, needed - granted
    assert not {v for g, r, v in granted} & {"delete", "deletecollection", "escalate", "bind",
                                              "impersonate"}


def test_selector_matching() -> None:
    not_gateway = {"matchExpressions": [{"key": "app.kubernetes.io/component",
                                         "operator": "NotIn", "values": ["pushgateway"]}]}
    assert selects(not_gateway, {"workflows.argoproj.io/workflow": "xstilts-weekly-x7k2p"})
    assert not selects(not_gateway, {"app.kubernetes.io/component": "pushgateway"})
    assert not selects({"matchLabels": {"a": "1"}}, {"a": "2"})


def test_network_policies(overlay: Path) -> None:
    objects = render(overlay)
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    gateway = next(o for o in objects if o["kind"] == "Deployment")
    gateway_pod = gateway["spec"]["template"]["metadata"]["labels"]
    pipeline_pod = {"workflows.argoproj.io/workflow": "xstilts-weekly-x7k2p",
                    "pipelines.kubeflow.org/v2_component": "true"}
    # The allows reach the pipeline's pods and not the gateway (which keeps default deny);
    # the gateway's ingress policy and the push allow select the gateway's pods.
    for name, spec in policies.items():
        if name.startswith("xstilts-allow-"):
            assert selects(spec["podSelector"], pipeline_pod), name
            assert not selects(spec["podSelector"], gateway_pod), name
    assert selects(policies["xstilts-pushgateway-ingress"]["podSelector"], gateway_pod)
    (push_to,) = policies["xstilts-allow-pushgateway"]["egress"][0]["to"]
    assert selects(push_to["podSelector"], gateway_pod)
    deny = policies["xstilts-default-deny-egress"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Egress"]
    assert not deny.get("egress"), "the default deny allows nothing"
    egress_ports = {(p.get("protocol", "TCP"), p["port"])
                    for spec in policies.values() for rule in spec.get("egress", [])
                    for p in rule.get("ports", [])}
    assert {("UDP", 53), ("TCP", 53), ("TCP", 9091), ("TCP", 8887), ("TCP", 8080)} <= egress_ports
    assert all(rule.get("ports") for spec in policies.values()
               for rule in spec.get("egress", [])), "every egress allow names its ports"
    ingress = policies["xstilts-pushgateway-ingress"]
    assert ingress["policyTypes"] == ["Ingress"]
    sources = ingress["ingress"][0]["from"]
    assert {"kubernetes.io/metadata.name": "monitoring"} in [
        s.get("namespaceSelector", {}).get("matchLabels") for s in sources]
    assert {"podSelector": {}} in sources  # the pods of the namespace push


# ------------------------------------------------------------------------------ negative


def _pushgateway(overlay_path: Path) -> dict:
    return next(o for o in render(overlay_path) if o["kind"] == "Deployment")


def _rule(overlay_path: Path) -> dict:
    return next(o for o in render(overlay_path) if o["kind"] == "PrometheusRule")


def test_validators_reject_misspelt_and_unknown_fields() -> None:
    deployment = _pushgateway(OVERLAYS[0])
    deployment["spec"]["replica"] = 1  # misspelt "replicas"
    assert any("replica" in e for e in validation_errors(deployment))

    deployment = _pushgateway(OVERLAYS[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert validation_errors(deployment)

    rule = _rule(OVERLAYS[0])
    rule["spec"]["groups"][0]["rules"][0]["severity"] = "warning"  # belongs under labels
    assert any("severity" in e for e in validation_errors(rule))

    rule = _rule(OVERLAYS[0])
    rule["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"
    assert validation_errors(rule)

    rule = _rule(OVERLAYS[0])
    rule["spec"]["groups"][0]["rules"][0]["record"] = "xstilts:both"  # alert and record
    assert validation_errors(rule)

    monitor = next(o for o in render(OVERLAYS[0]) if o["kind"] == "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    endpoint["honorLabel"] = endpoint.pop("honorLabels")
    assert any("honorLabel" in e for e in validation_errors(monitor))

    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert any("no schema" in e for e in validation_errors(unknown))


def test_security_check_rejects_weak_pods() -> None:
    base = _pushgateway(OVERLAYS[0])
    assert security_problems(base) == []

    def weakened(change) -> list[str]:
        deployment = copy.deepcopy(base)
        spec = deployment["spec"]["template"]["spec"]
        change(spec, spec["containers"][0])
        return security_problems(deployment)

    def no_seccomp(pod, c):
        pod["securityContext"].pop("seccompProfile")
        c["securityContext"].pop("seccompProfile")

    def as_root(pod, c):
        pod["securityContext"]["runAsUser"] = 0
        c["securityContext"].pop("runAsUser")

    assert any("seccomp" in p for p in weakened(no_seccomp))
    assert any("runAsUser" in p for p in weakened(as_root))
    assert any("readOnlyRootFilesystem" in p for p in weakened(
        lambda pod, c: c["securityContext"].update(readOnlyRootFilesystem=False)))
    assert any("capabilities" in p for p in weakened(
        lambda pod, c: c["securityContext"].update(capabilities={"drop": ["NET_RAW"]})))
    assert any("limits" in p for p in weakened(lambda pod, c: c["resources"].pop("limits")))
    assert any("automountServiceAccountToken" in p for p in weakened(
        lambda pod, c: pod.pop("automountServiceAccountToken")))
    assert any("pinned" in p for p in weakened(
        lambda pod, c: c.update(image="prom/pushgateway:latest")))


def test_secret_check_rejects_values() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "stringData": {"HF_TOKEN": ""}, "data": {}}
    assert secret_values(secret) == []
    secret["data"]["AWS_SECRET_ACCESS_KEY"] = "c2VjcmV0"
    assert secret_values(secret) == ["Secret/-/s: data.AWS_SECRET_ACCESS_KEY"]


# ------------------------------------------------------------------------------ dashboard


def test_promql_metric_name_extraction() -> None:
    assert promql_metric_names(
        'avg by (language) (xstilts_eval_score_ratio{study=~"$study", metric="f1"})'
    ) == {"xstilts_eval_score_ratio"}
    assert promql_metric_names(
        "rate(xstilts_train_steps_total[$__rate_interval]) / on (job, seed) group_left "
        "xstilts_train_planned_steps * 1e3 or vector(0)"
    ) == {"xstilts_train_steps_total", "xstilts_train_planned_steps"}
    assert unknown_metrics(promql_metric_names("sum(xstilts_train_los) + DCGM_FI_DEV_GPU_UTIL")) \
        == {"xstilts_train_los"}


def test_dashboard_queries_only_known_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    queries = dashboard_queries(dashboard)
    assert len(queries) >= 10
    used = set()
    problems = []
    for where, expr in queries:
        names = promql_metric_names(expr)
        if not names:
            problems.append(f"{where}: no metric in {expr!r}")
        if unknown_metrics(names):
            problems.append(f"{where}: unknown metrics {sorted(unknown_metrics(names))}")
        used |= names
    assert not problems, "\n".join(problems)
    # The panels the dashboard is for: training, evaluation, stages, runs, GPUs.
    wanted = {"xstilts_train_loss", "xstilts_train_steps_total", "xstilts_train_tokens_total",
              "xstilts_train_learning_rate", "xstilts_train_last_progress_timestamp_seconds",
              "xstilts_eval_score_ratio", "xstilts_stage_duration_seconds",
              "xstilts_stage_success", "xstilts_run_last_success_timestamp_seconds",
              "xstilts_gpu_peak_memory_bytes", "DCGM_FI_DEV_GPU_UTIL"}
    assert wanted <= used, f"no panel for {sorted(wanted - used)}"


def test_alerts_use_only_known_metrics(overlay: Path) -> None:
    rule = next(o for o in render(overlay) if o["kind"] == "PrometheusRule")
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            names = promql_metric_names(str(r["expr"]))
            assert names and not unknown_metrics(names), (r.get("alert"), sorted(names))


def test_dashboard_panels_are_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in panels:
        assert {"type", "title", "gridPos"} <= panel.keys(), panel.get("title")
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            refs = [t["refId"] for t in panel["targets"]]
            assert len(refs) == len(set(refs)), panel["title"]


# ------------------------------------------------------------------------------ image


def test_constraints_pin_what_pyproject_allows() -> None:
    """k8s/constraints.txt pins exact versions the project's requirements accept (a
    changed requirement must come with regenerated pins, or the image build fails)."""
    pins = {}
    for line in (K8S / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"not an exact pin: {line}"
            pins[canonicalize_name(req.name)] = spec.version
    assert pins["kfp"] == "2.17.3" and pins["kfp-kubernetes"] == "2.17.3"
    assert "torch" not in pins, "torch comes from the CUDA base image"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conflicts = []
    for line in project["dependencies"]:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name in pins and not req.specifier.contains(pins[name], prereleases=True):
            conflicts.append(f"{line} excludes the pinned {name}=={pins[name]}")
    assert not conflicts, \
        "regenerate k8s/constraints.txt (see its header):\n" + "\n".join(conflicts)


def test_dockerfile_conventions() -> None:
    text = (K8S / "Dockerfile").read_text()
    instructions = [line for line in re.sub(r"\\\n", " ", text).splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    (base,) = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    pinned = r"pytorch/pytorch:[\d.]+-cuda[\d.]+-cudnn\d+-runtime(@sha256:[0-9a-f]{64})?"
    assert re.fullmatch(pinned, base), base
    assert [line for line in instructions if line.startswith("USER ")] == ["USER 1000:1000"]
    assert not [line for line in instructions if line.startswith("HEALTHCHECK")]
    assert any(line.startswith("CMD [") for line in instructions)
    install = next(line for line in instructions if "pip install" in line)
    assert "-c constraints.txt" in install and '"kfp==2.17.3"' in install \
        and '"kfp-kubernetes==2.17.3"' in install
    env_lines = " ".join(line for line in instructions if line.startswith("ENV "))
    env = dict(re.findall(r"(\w+)=(\S+)", env_lines))
    for key in ("HF_HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "DVC_SITE_CACHE_DIR", "HOME"):
        assert env[key].startswith(("/tmp", "/mnt/xstilts")), f"{key}={env[key]} is not writable"
    assert env["DVC_NO_ANALYTICS"] == "1" and env["GX_ANALYTICS_ENABLED"] == "false" \
        and env["DO_NOT_TRACK"] == "1"
    assert "HF_HUB_OFFLINE" not in env  # the user's choice, per run
    ignore = [line.strip() for line in (K8S / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "the build context is an allowlist: exclude all, then re-include"
    for needed in ("!pyproject.toml", "!README.md", "!src/", "!k8s/constraints.txt"):
        assert needed in ignore, needed
