"""Pod settings of the study's tasks: GPU sizing per architecture size, volumes, secrets,
retries and caching. Every cluster-specific name is a constant here (and matches k8s/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from kfp import dsl, kubernetes

from xstilts.study import Resources

# ------------------------------------------------------------------ sizing (the one table)


@dataclass(frozen=True)
class Sizing:
    gpus: int  # 0: a CPU pod (no accelerator, no GPU node selector or toleration)
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    shm: str  # size limit of the in-memory /dev/shm


SIZING: dict[str, Sizing] = {
    "tiny": Sizing(0, "1", "2", "2Gi", "4Gi", "1Gi"),
    "small": Sizing(1, "4", "8", "16Gi", "24Gi", "4Gi"),
    "base": Sizing(1, "4", "8", "24Gi", "32Gi", "8Gi"),
    "large": Sizing(1, "8", "12", "48Gi", "64Gi", "16Gi"),
    "xl": Sizing(1, "16", "24", "96Gi", "128Gi", "32Gi"),
}
"""Per architecture size (``Architecture.size``): GPUs, CPU/memory requests and limits.
A study config's ``resources.<architecture>`` sets more GPUs (data-parallel training in the
pod) and the GPU type."""

# ------------------------------------------------------------------ cluster names

ACCELERATOR = "nvidia.com/gpu"
GPU_NODE_SELECTOR = ("nvidia.com/gpu.present", "true")  # label set by the NVIDIA GPU operator
GPU_TYPE_LABEL = "nvidia.com/gpu.product"  # GPU feature discovery's model label
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}

PVC_NAME = "xstilts-cache"  # k8s/base/pvc.yaml
PVC_MOUNT = "/mnt/xstilts"  # data folder, HF cache, run records
CHECKPOINT_PVC_NAME = "xstilts-checkpoints"  # k8s/base/pvc.yaml: training resume state
CHECKPOINT_MOUNT = "/mnt/xstilts-checkpoints"
SERVICE_ACCOUNT = "xstilts-pipeline-runner"  # k8s/base/rbac.yaml: what runs are submitted as
HF_HOME = f"{PVC_MOUNT}/hf"
SHM_VOLUME = "dshm"

HF_SECRET = "xstilts-hf-token"  # key HF_TOKEN
HF_SECRET_ENV = {"HF_TOKEN": "HF_TOKEN"}
DVC_SECRET = "xstilts-dvc-remote"  # keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
DVC_SECRET_ENV = {"AWS_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY"}

PUSHGATEWAY_URL = "http://xstilts-pushgateway:9091"  # k8s/: the Service in the namespace
RUN_AS_USER = 1000  # the image's non-root user (k8s/Dockerfile)

RETRY = {"num_retries": 3, "backoff_duration": "60s", "backoff_factor": 2.0}

# Per-pod deadline (activeDeadlineSeconds) by architecture size: a hung pod fails, is
# retried, and resumes from its last checkpoint instead of holding a GPU for ever.
TIMEOUT_S = {"tiny": 3600, "small": 6 * 3600, "base": 12 * 3600, "large": 24 * 3600,
             "xl": 48 * 3600}
GATE_TIMEOUT_S = 2 * 3600
REPORT_TIMEOUT_S = 3600


def sizing_for(size: str) -> Sizing:
    """The sizing of an architecture size; unknown sizes get the largest single-GPU one."""
    return SIZING.get(size, SIZING["large"])


def _common(task: dsl.PipelineTask) -> None:
    kubernetes.mount_pvc(task, pvc_name=PVC_NAME, mount_path=PVC_MOUNT)
    kubernetes.set_security_context(task, run_as_user=RUN_AS_USER, run_as_group=RUN_AS_USER,
                                    run_as_non_root=True)
    task.set_env_variable("HF_HOME", HF_HOME)
    task.set_env_variable("MPLCONFIGDIR", "/tmp/matplotlib")


def gpus_of(size: str, configured: Optional[Resources], training: bool) -> int:
    """GPUs of a task: the configured count for training (data-parallel), one for
    evaluation (it runs in one process), else the size table's."""
    if configured is not None and configured.gpus:
        return configured.gpus if training else 1
    return sizing_for(size).gpus


def gpu_task(task: dsl.PipelineTask, size: str, configured: Optional[Resources] = None,
             training: bool = True) -> dsl.PipelineTask:
    """Settings of a training or evaluation task of an architecture of ``size``: cached,
    retried, timed out, sized, GPU-scheduled (unless tiny and not configured otherwise) on
    the configured GPU type, shared volume, in-memory /dev/shm, and the HF token from its
    Secret."""
    sizing = sizing_for(size)
    gpus = gpus_of(size, configured, training)
    if training:  # resume state lives on its own volume (k8s/base/pvc.yaml)
        kubernetes.mount_pvc(task, pvc_name=CHECKPOINT_PVC_NAME, mount_path=CHECKPOINT_MOUNT)
    task.set_caching_options(True)
    task.set_retry(**RETRY)
    kubernetes.set_timeout(task, TIMEOUT_S[size if size in TIMEOUT_S else "large"])
    task.set_cpu_request(sizing.cpu_request).set_cpu_limit(sizing.cpu_limit)
    task.set_memory_request(sizing.memory_request).set_memory_limit(sizing.memory_limit)
    if gpus:
        task.set_accelerator_type(ACCELERATOR).set_accelerator_limit(gpus)
        kubernetes.add_node_selector(task, *GPU_NODE_SELECTOR)
        if configured is not None and configured.gpu_type:
            kubernetes.add_node_selector(task, GPU_TYPE_LABEL, configured.gpu_type)
        kubernetes.add_toleration(task, **GPU_TOLERATION)
    kubernetes.empty_dir_mount(task, volume_name=SHM_VOLUME, mount_path="/dev/shm",
                               medium="Memory", size_limit=sizing.shm)
    _common(task)
    # Public models need no token: optional, so a cluster without the Secret still runs.
    kubernetes.use_secret_as_env(task, secret_name=HF_SECRET, secret_key_to_env=HF_SECRET_ENV,
                                 optional=True)
    return task


def _cpu_task(task: dsl.PipelineTask, cached: bool, cpu: tuple[str, str],
              memory: tuple[str, str], timeout_s: int) -> dsl.PipelineTask:
    """A CPU pod: caching, retries, deadline, (request, limit) of CPU and memory, the
    shared volume."""
    task.set_caching_options(cached)
    task.set_retry(**RETRY)
    kubernetes.set_timeout(task, timeout_s)
    task.set_cpu_request(cpu[0]).set_cpu_limit(cpu[1])
    task.set_memory_request(memory[0]).set_memory_limit(memory[1])
    _common(task)
    return task


def gate_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Data preparation and the data gate: they read external state (the data folder, the
    models), so they are never cached; they may pull data (DVC credentials) and download
    model configs (HF token)."""
    _cpu_task(task, False, ("1", "2"), ("2Gi", "8Gi"), GATE_TIMEOUT_S)
    kubernetes.use_secret_as_env(task, secret_name=HF_SECRET, secret_key_to_env=HF_SECRET_ENV,
                                 optional=True)
    kubernetes.use_secret_as_env(task, secret_name=DVC_SECRET,
                                 secret_key_to_env=DVC_SECRET_ENV, optional=True)
    return task


def validation_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Great Expectations validation: a pure function of the data version and the code,
    so cached under a key naming both; CPU only."""
    return _cpu_task(task, True, ("1", "2"), ("2Gi", "8Gi"), GATE_TIMEOUT_S)


def report_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """The report: pure (cached), CPU only."""
    return _cpu_task(task, True, ("1", "2"), ("2Gi", "8Gi"), REPORT_TIMEOUT_S)


def collect_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Merges evaluation folders: pure (cached), small CPU pod."""
    return _cpu_task(task, True, ("250m", "1"), ("512Mi", "2Gi"), REPORT_TIMEOUT_S)


def publish_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Copies the results to the shared volume (a side effect), so never cached."""
    return _cpu_task(task, False, ("100m", "1"), ("256Mi", "1Gi"), REPORT_TIMEOUT_S)


def exit_task(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """The exit handler's task: records the outcome (a side effect), never cached."""
    task.set_caching_options(False)
    task.set_cpu_request("100m").set_memory_request("256Mi")
    _common(task)
    return task
