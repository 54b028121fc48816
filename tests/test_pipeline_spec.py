"""The compiled study pipelines (no cluster): pod settings, caching, deduplication, secrets.

Compiles configs/smoke.yaml, paper.yaml and architectures.yaml with the real compiler and
asserts on the IR (first YAML document) and the Kubernetes platform spec (second document,
``platforms.kubernetes.deploymentSpec.executors``).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # components/ and pipelines/ live at the repository root

pytest.importorskip("kfp.kubernetes")

from pipelines import resources  # noqa: E402
from pipelines.study import compile_study, study_stages  # noqa: E402
from xstilts.models.registry import REGISTRY, TINY_NAMES  # noqa: E402
from xstilts.study import NONE, load_study  # noqa: E402

SECRET_VALUE = "super-secret-value-3f9c"
CONFIGS = ("smoke", "paper", "architectures")
GPU_COMPONENTS = ("train-intermediate", "train-target", "evaluate", "evaluate-retrieval")
SIZES = {**{n: a.size for n, a in REGISTRY.items()}, **{n: "tiny" for n in TINY_NAMES}}


class Compiled:
    def __init__(self, name: str, path: Path, seconds: float) -> None:
        self.name, self.path, self.seconds = name, path, seconds
        self.config = load_study(ROOT / "configs" / f"{name}.yaml")
        self.text = path.read_text(encoding="utf-8")
        docs = list(yaml.safe_load_all(self.text))
        self.ir = docs[0]
        self.platform = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        self.components = self.ir["components"]
        self.executors = self.ir["deploymentSpec"]["executors"]
        self.study = self.components["comp-exit-handler-1"]["dag"]["tasks"]
        self.root = self.ir["root"]["dag"]["tasks"]

    def kind(self, task: dict) -> str:
        """The component a task runs, without KFP's -N suffix."""
        ref = task["componentRef"]["name"].removeprefix("comp-")
        parts = ref.split("-")
        return "-".join(parts[:-1]) if parts[-1].isdigit() else ref

    def executor(self, task: dict) -> str:
        return self.components[task["componentRef"]["name"]]["executorLabel"]

    def constant(self, task: dict, name: str):
        return task["inputs"]["parameters"][name]["runtimeValue"]["constant"]


@pytest.fixture(scope="module", params=CONFIGS)
def compiled(request, tmp_path_factory) -> Compiled:
    saved = os.environ.get("HF_TOKEN")
    os.environ["HF_TOKEN"] = SECRET_VALUE
    try:
        out = tmp_path_factory.mktemp("kfp") / f"{request.param}.yaml"
        started = time.perf_counter()
        compile_study(load_study(ROOT / "configs" / f"{request.param}.yaml"), out)
        seconds = time.perf_counter() - started
    finally:
        if saved is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = saved
    print(f"\ncompiled {request.param}: {seconds:.1f} s, {out.stat().st_size / 1e6:.1f} MB")
    return Compiled(request.param, out, seconds)


def test_one_task_per_planned_stage(compiled):
    stages = study_stages(compiled.config)
    kinds = Counter(compiled.kind(t) for t in compiled.study.values())
    assert kinds["validate-data"] == 1 and kinds["report"] == 1
    assert kinds["train-intermediate"] == sum(s.kind == "intermediate" for s in stages)
    assert kinds["train-target"] == sum(s.kind == "target" for s in stages)
    assert kinds["evaluate"] + kinds["evaluate-retrieval"] == \
        sum(s.kind == "evaluate" for s in stages)
    assert sorted(t["taskInfo"]["name"] for t in compiled.study.values()
                  if compiled.kind(t) not in ("validate-data", "report")) == \
        sorted(s.label for s in stages)


def test_each_intermediate_is_trained_exactly_once(compiled):
    cells = Counter(
        (compiled.constant(t, "architecture"), compiled.constant(t, "intermediate"),
         int(compiled.constant(t, "seed")))
        for t in compiled.study.values() if compiled.kind(t) == "train-intermediate")
    config = compiled.config
    expected = {(a, i, s) for a in config.architectures for i in config.intermediate
                if i != NONE for s in config.seeds}
    assert set(cells) == expected
    assert all(count == 1 for count in cells.values())


def test_consumers_read_their_cells_intermediate(compiled):
    """Every target training and retrieval evaluation of an intermediate cell reads the one
    train-intermediate task of that cell; baseline cells start from the pretrained model."""
    producers = {name: t for name, t in compiled.study.items()}
    for task in compiled.study.values():
        kind = compiled.kind(task)
        if kind not in ("train-target", "evaluate-retrieval"):
            continue
        artifacts = task["inputs"].get("artifacts", {})
        source = artifacts.get("init") or artifacts.get("encoder")
        inter = compiled.constant(task, "intermediate")
        if kind == "train-target":
            if inter == NONE:
                assert source is None
                continue
            producer = producers[source["taskOutputArtifact"]["producerTask"]]
            assert compiled.kind(producer) == "train-intermediate"
            for field in ("architecture", "intermediate", "seed"):
                assert compiled.constant(producer, field) == compiled.constant(task, field)
        elif source is not None:
            producer = producers[source["taskOutputArtifact"]["producerTask"]]
            assert compiled.kind(producer) in ("train-intermediate", "train-target")
            assert compiled.constant(producer, "architecture") == \
                compiled.constant(task, "architecture")


def test_gpu_pod_settings(compiled):
    checked = 0
    for task in compiled.study.values():
        if compiled.kind(task) not in GPU_COMPONENTS:
            continue
        size = SIZES[compiled.constant(task, "architecture")]
        sizing = resources.SIZING[size]
        label = compiled.executor(task)
        container = compiled.executors[label]["container"]
        platform = compiled.platform[label]
        res = container["resources"]
        assert res["resourceCpuRequest"] == sizing.cpu_request
        assert res["resourceCpuLimit"] == sizing.cpu_limit
        assert res["resourceMemoryRequest"] == sizing.memory_request
        assert res["resourceMemoryLimit"] == sizing.memory_limit
        if size == "tiny":
            assert "accelerator" not in res
            assert "tolerations" not in platform and "nodeSelector" not in platform
        else:
            assert res["accelerator"]["resourceType"] == "nvidia.com/gpu"
            assert int(res["accelerator"]["resourceCount"]) == sizing.gpus >= 1
            assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} \
                in platform["tolerations"]
            assert platform["nodeSelector"]["labels"] == dict([resources.GPU_NODE_SELECTOR])
        assert {"mountPath": "/dev/shm", "medium": "Memory"}.items() <= \
            platform["emptyDirMounts"][0].items()
        assert platform["pvcMount"][0]["constant"] == resources.PVC_NAME
        assert platform["pvcMount"][0]["mountPath"] == resources.PVC_MOUNT
        secrets = {(s["secretName"], k["envVar"]) for s in platform["secretAsEnv"]
                   for k in s["keyToEnv"]}
        assert (resources.HF_SECRET, "HF_TOKEN") in secrets
        assert platform["securityContext"]["runAsNonRoot"] is True
        assert task["retryPolicy"]["maxRetryCount"] == 3
        assert task["retryPolicy"]["backoffDuration"] == "60s"
        assert float(task["retryPolicy"]["backoffFactor"]) == 2.0
        assert task["cachingOptions"].get("enableCache") is True
        checked += 1
    assert checked == len(study_stages(compiled.config))


def test_gpu_counts_follow_the_size_table(compiled):
    sizes = {SIZES[a] for a in compiled.config.architectures}
    counts = {int(e["container"]["resources"]["accelerator"]["resourceCount"])
              for e in compiled.executors.values()
              if "accelerator" in e["container"].get("resources", {})}
    assert counts == {resources.SIZING[s].gpus for s in sizes} - {0}


def test_caching_gate_and_exit_off_report_on(compiled):
    by_kind = {compiled.kind(t): t for t in compiled.study.values()}
    assert not by_kind["validate-data"]["cachingOptions"].get("enableCache", False)
    assert by_kind["report"]["cachingOptions"].get("enableCache") is True
    exit_task = compiled.root["record-outcome"]
    assert not exit_task["cachingOptions"].get("enableCache", False)
    assert exit_task["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    assert "taskFinalStatus" in exit_task["inputs"]["parameters"]["status"]
    gate = compiled.platform[compiled.executor(by_kind["validate-data"])]
    assert {s["secretName"] for s in gate["secretAsEnv"]} == \
        {resources.HF_SECRET, resources.DVC_SECRET}


def test_report_fans_in_every_evaluation(compiled):
    report = next(t for t in compiled.study.values() if compiled.kind(t) == "report")
    scores = report["inputs"]["parameters"]["scores"]["runtimeValue"]["constant"]
    evaluations = {name for name, t in compiled.study.items()
                   if compiled.kind(t) in ("evaluate", "evaluate-retrieval")}
    assert len(scores) == len(evaluations)
    assert set(report["dependentTasks"]) >= evaluations


def test_no_secret_values_and_no_pip(compiled):
    assert SECRET_VALUE not in compiled.text
    for executor in compiled.executors.values():
        command = " ".join(executor["container"]["command"])
        assert "pip install" not in command and "ensurepip" not in command
        assert "kfp.dsl.executor_main" in command
        assert executor["container"]["image"].startswith("ghcr.io/xstilts/xstilts:")
    # secrets reach pods only from Kubernetes Secrets, never as parameters
    params = compiled.ir["root"].get("inputDefinitions", {}).get("parameters", {})
    assert not any("token" in p.lower() or "secret" in p.lower() for p in params)


def test_compile_time(compiled):
    limit = 600 if compiled.name == "architectures" else 60
    assert compiled.seconds < limit


def test_image_override(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_IMAGE", "registry.example/xstilts:test")
    out = tmp_path / "smoke.yaml"
    compile_study(load_study(ROOT / "configs" / "smoke.yaml"), out)
    ir = next(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    images = {e["container"]["image"] for e in ir["deploymentSpec"]["executors"].values()}
    assert images == {"registry.example/xstilts:test"}
