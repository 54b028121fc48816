"""The compiled study pipelines (no cluster): pod settings, caching, deduplication, secrets.

Compiles configs/smoke.yaml, paper.yaml and architectures.yaml with the real compiler and
asserts on the IR (first YAML document) and the Kubernetes platform spec (second document,
``platforms.kubernetes.deploymentSpec.executors``).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # components/ and pipelines/ live at the repository root

pytest.importorskip("kfp.kubernetes")

from pipelines import resources  # noqa: E402
from xstilts.artifacts import FANIN  # noqa: E402
from pipelines.study import compile_study, study_stages  # noqa: E402
from xstilts.models.registry import REGISTRY, TINY_NAMES  # noqa: E402
from xstilts.study import NONE, Resources, load_study  # noqa: E402

SECRET_VALUE = "super-secret-value-3f9c"
CONFIGS = ("smoke", "paper", "architectures")
GPU_COMPONENTS = ("train-intermediate", "train-target", "evaluate", "evaluate-retrieval")
CLASSIFICATION_EVALUATIONS = ("evaluate-xnli", "evaluate-pawsx")
SIZES = {**{n: a.size for n, a in REGISTRY.items()}, **{n: "tiny" for n in TINY_NAMES}}


class Compiled:
    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path = name, path
        self.config = load_study(ROOT / "configs" / f"{name}.yaml")
        self.text = path.read_text(encoding="utf-8")
        docs = list(yaml.safe_load_all(self.text))
        self.ir = docs[0]
        self.platform = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        self.components = self.ir["components"]
        self.executors = self.ir["deploymentSpec"]["executors"]
        self.study = self.components["comp-exit-handler-1"]["dag"]["tasks"]
        self.root = self.ir["root"]["dag"]["tasks"]

    def component(self, task: dict) -> str:
        """The component a task runs, without KFP's -N suffix."""
        ref = task["componentRef"]["name"].removeprefix("comp-")
        parts = ref.split("-")
        return "-".join(parts[:-1]) if parts[-1].isdigit() else ref

    def kind(self, task: dict) -> str:
        """The component, with the per-target classification evaluations as "evaluate"."""
        name = self.component(task)
        return "evaluate" if name in CLASSIFICATION_EVALUATIONS else name

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
        compile_study(load_study(ROOT / "configs" / f"{request.param}.yaml"), out)
    finally:
        if saved is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = saved
    return Compiled(request.param, out)


def test_kfp_loads_the_spec_back(compiled):
    """kfp's own loader accepts the spec. Not for architectures.yaml: the same compiler
    output at 15× the size, and kfp takes minutes to load it."""
    from kfp import components

    if compiled.name == "architectures":
        pytest.skip("same spec shape as smoke and paper; kfp loads 2,835 tasks in minutes")
    loaded = components.load_component_from_file(str(compiled.path))
    assert loaded.name == f"xstilts-{compiled.config.name}"
    assert set(loaded.component_spec.inputs) == {"data_root", "data_version", "data_rev",
                                                 "run_dir", "checkpoint_root"}


def test_one_task_per_planned_stage(compiled):
    stages = study_stages(compiled.config)
    kinds = Counter(compiled.kind(t) for t in compiled.study.values())
    assert kinds["prepare-data"] == kinds["validate-data"] == kinds["data-gate"] == 1
    assert kinds["report"] == kinds["publish"] == 1
    assert kinds["train-intermediate"] == sum(s.kind == "intermediate" for s in stages)
    assert kinds["train-target"] == sum(s.kind == "target" for s in stages)
    assert kinds["evaluate"] + kinds["evaluate-retrieval"] == \
        sum(s.kind == "evaluate" for s in stages)
    assert sorted(t["taskInfo"]["name"] for t in compiled.study.values()
                  if compiled.kind(t) not in ("prepare-data", "validate-data", "data-gate",
                                              "report", "publish", "collect")) == \
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
        mounts = {m["constant"]: m["mountPath"] for m in platform["pvcMount"]}
        assert mounts[resources.PVC_NAME] == resources.PVC_MOUNT
        if compiled.kind(task).startswith("train-"):  # resume state on its own volume
            assert mounts[resources.CHECKPOINT_PVC_NAME] == resources.CHECKPOINT_MOUNT
        else:
            assert resources.CHECKPOINT_PVC_NAME not in mounts
        secrets = {(s["secretName"], k["envVar"]) for s in platform["secretAsEnv"]
                   for k in s["keyToEnv"]}
        assert (resources.HF_SECRET, "HF_TOKEN") in secrets
        assert platform["securityContext"]["runAsNonRoot"] is True
        assert task["retryPolicy"]["maxRetryCount"] == 3
        assert task["retryPolicy"]["backoffDuration"] == "60s"
        assert float(task["retryPolicy"]["backoffFactor"]) == 2.0
        assert task["cachingOptions"].get("enableCache") is True
        assert int(platform["activeDeadlineSeconds"]) == resources.TIMEOUT_S[size]
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
    assert not by_kind["prepare-data"]["cachingOptions"].get("enableCache", False)
    assert not by_kind["data-gate"]["cachingOptions"].get("enableCache", False)
    assert by_kind["validate-data"]["cachingOptions"].get("enableCache") is True
    assert not by_kind["publish"]["cachingOptions"].get("enableCache", False)
    assert by_kind["report"]["cachingOptions"].get("enableCache") is True
    assert by_kind["publish"]["inputs"]["artifacts"]["results"]["taskOutputArtifact"][
        "producerTask"] == "report"
    exit_task = compiled.root["record-outcome"]
    assert not exit_task["cachingOptions"].get("enableCache", False)
    assert exit_task["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    assert "taskFinalStatus" in exit_task["inputs"]["parameters"]["status"]
    for kind in ("prepare-data", "data-gate"):
        gate = compiled.platform[compiled.executor(by_kind[kind])]
        assert {s["secretName"] for s in gate["secretAsEnv"]} == \
            {resources.HF_SECRET, resources.DVC_SECRET}


def test_validation_runs_first_and_gates_all_training(compiled):
    """prepare -> validate -> gate, and every training and evaluation task depends on the
    gate's output (so none can start before validation passed)."""
    by_kind = {compiled.kind(t): t for t in compiled.study.values()}
    validate = by_kind["validate-data"]["inputs"]
    assert validate["artifacts"]["data"]["taskOutputArtifact"]["producerTask"] == \
        "prepare-data"
    gate = by_kind["data-gate"]["inputs"]
    assert gate["parameters"]["verdict"]["taskOutputParameter"] == \
        {"producerTask": "validate-data", "outputParameterKey": "Output"}
    outputs = compiled.ir["components"][by_kind["validate-data"]["componentRef"]["name"]][
        "outputDefinitions"]["artifacts"]
    assert outputs["summary"]["artifactType"]["schemaTitle"] == "system.Markdown"
    assert outputs["data_docs"]["artifactType"]["schemaTitle"] == "system.Artifact"
    for task in compiled.study.values():
        if compiled.kind(task).startswith(("train-", "evaluate")):
            data = task["inputs"]["artifacts"]["data"]["taskOutputArtifact"]
            assert data == {"producerTask": "data-gate", "outputArtifactKey": "ready"}


def test_report_reads_every_evaluation_through_a_bounded_collect_tree(compiled):
    """Each evaluation feeds one collect task; collect tasks take at most FANIN parts (a
    task's inputs travel on one command line, limited to 128 KiB); one root feeds the
    report."""
    tasks = compiled.study
    feeds: Counter = Counter()
    for name, task in tasks.items():
        if compiled.kind(task) != "collect":
            continue
        parts = task["inputs"]["artifacts"]
        assert 1 <= len(parts) <= FANIN
        for part in parts.values():
            feeds[part["taskOutputArtifact"]["producerTask"]] += 1
    evaluations = {name for name, t in tasks.items()
                   if compiled.kind(t) in ("evaluate", "evaluate-retrieval")}
    collects = {name for name, t in tasks.items() if compiled.kind(t) == "collect"}
    assert evaluations <= set(feeds) and all(feeds[name] == 1 for name in feeds)
    report = next(t for t in tasks.values() if compiled.kind(t) == "report")
    root = report["inputs"]["artifacts"]["collected"]["taskOutputArtifact"]["producerTask"]
    assert root in collects and root not in feeds  # the one collect nobody else reads
    assert set(feeds) == evaluations | (collects - {root})
    assert "parameters" not in report["inputs"] or \
        not {"scores", "dev"} & set(report["inputs"]["parameters"])


def test_classification_targets_publish_a_confusion_matrix_per_language(compiled):
    from xstilts.tasks.catalogue import get_task

    seen = set()
    for task in compiled.study.values():
        target = task["inputs"].get("parameters", {}).get("target", {}).get("runtimeValue", {})
        target = target.get("constant")
        if target not in ("xnli", "pawsx") or compiled.kind(task) != "evaluate":
            continue
        assert compiled.component(task) == f"evaluate-{target}"
        component = compiled.components[task["componentRef"]["name"]]
        artifacts = component["outputDefinitions"]["artifacts"]
        confusion = {name.removeprefix("confusion_"): a["artifactType"]["schemaTitle"]
                     for name, a in artifacts.items() if name.startswith("confusion_")}
        assert confusion == {lang: "system.ClassificationMetrics"
                             for lang in get_task(target).all_languages()}
        assert artifacts["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"
        seen.add(target)
    assert seen == {"xnli", "pawsx"} & {t.name for t in compiled.config.target_tasks()}


def test_configured_gpus_and_type_train_data_parallel(tmp_path):
    """resources.<arch>.gpus sets the training pods' GPUs (torchrun in the pod: one process
    per GPU), evaluation pods take one; gpu_type becomes a node selector."""
    config = load_study(ROOT / "configs" / "smoke.yaml").model_copy(update={
        "resources": {"tiny-xlmr": Resources(gpus=4, gpu_type="NVIDIA-H100-80GB-HBM3")}})
    out = tmp_path / "gpus.yaml"
    compile_study(config, out)
    docs = list(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    ir, platform = docs[0], docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    seen = Counter()
    for task in ir["components"]["comp-exit-handler-1"]["dag"]["tasks"].values():
        params = task["inputs"].get("parameters", {})
        if "architecture" not in params:
            continue
        component = ir["components"][task["componentRef"]["name"]]
        label = component["executorLabel"]
        res = ir["deploymentSpec"]["executors"][label]["container"].get("resources", {})
        name = params["architecture"]["runtimeValue"]["constant"]
        training = "resume_dir" in component["inputDefinitions"]["parameters"]
        if name != "tiny-xlmr":
            assert "accelerator" not in res  # tiny: CPU pods
            continue
        assert int(res["accelerator"]["resourceCount"]) == (4 if training else 1)
        assert platform[label]["nodeSelector"]["labels"] == {
            "nvidia.com/gpu.present": "true",
            "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
        seen["training" if training else "evaluation"] += 1
    assert seen["training"] and seen["evaluation"]


def test_pinned_data_version_sets_content_addressed_cache_keys(tmp_path):
    config = load_study(ROOT / "configs" / "smoke.yaml")
    version = "cd" * 32
    out = tmp_path / "pinned.yaml"
    compile_study(config, out, data_version=version)
    ir = next(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    assert ir["root"]["inputDefinitions"]["parameters"]["data_version"]["defaultValue"] == \
        version
    keys = {t["taskInfo"]["name"]: t["cachingOptions"].get("cacheKey")
            for t in ir["components"]["comp-exit-handler-1"]["dag"]["tasks"].values()}
    stages = study_stages(config, version)
    assert {s.label: s.key for s in stages}.items() <= keys.items()
    assert keys["report"] and keys["validate data"]
    assert not keys["prepare data"] and not keys["data gate"] and not keys["publish"]
    # the keys depend on the data version: other data, other keys
    assert not {s.key for s in study_stages(config, "ef" * 32)} & set(keys.values())


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


def test_image_override(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_IMAGE", "registry.example/xstilts:test")
    out = tmp_path / "smoke.yaml"
    compile_study(load_study(ROOT / "configs" / "smoke.yaml"), out)
    ir = next(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    images = {e["container"]["image"] for e in ir["deploymentSpec"]["executors"].values()}
    assert images == {"registry.example/xstilts:test"}
