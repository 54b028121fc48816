"""Study configs and the study plan: which stages the grid needs, in dependency order.

A study is architectures × intermediate settings × targets × seeds. Each (architecture,
intermediate, seed) is trained once and shared by all its targets; each trainable target is
trained once per (architecture, intermediate, seed); every target is evaluated in every
language. Every stage has a key: a hash of everything that determines its output (the config
slice it uses, the keys of the stages it consumes, the data version and the code version).
A stage whose key already has a finished output is not run again.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

import xstilts
from xstilts.config import DataConfig, read_mapping, validated
from xstilts.errors import UserError
from xstilts.tasks.catalogue import BENCHMARKS, CATALOGUE, Task, get_task
from xstilts.tasks.languages import TASK2LANGS
from xstilts.training.recipes import PRESETS

NONE = "none"
INTERMEDIATE_NAMES = [t.name for t in CATALOGUE.values() if t.role == "intermediate"]
TARGET_NAMES = [t.name for t in CATALOGUE.values() if t.role == "target"]
RETRIEVAL_WITHOUT_TRAINING = ("bitext_retrieval",)


class Budget(BaseModel):
    """Caps for quick runs; None means the recipe decides."""

    model_config = ConfigDict(extra="forbid")

    max_steps: int | None = Field(default=None, gt=0)
    max_train_examples: int | None = Field(default=None, gt=0)
    max_eval_examples: int | None = Field(default=None, gt=0)


class Sampling(BaseModel):
    """How multi-task intermediate training picks the task of each step."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["proportional", "temperature", "uniform"] = "proportional"
    temperature: float = Field(default=2.0, gt=0)
    cap: int | None = Field(default=None, gt=0)  # examples per task counted for sampling


class Resources(BaseModel):
    """Cluster resources of one architecture's training and evaluation pods."""

    model_config = ConfigDict(extra="forbid")

    # GPUs of each training pod; more than one trains data-parallel (torchrun) in the pod.
    # Evaluation pods take one GPU. Default: the size table (pipelines/resources.py).
    gpus: int | None = Field(default=None, ge=1, le=16)
    # GPU model, matched against the node label nvidia.com/gpu.product (GPU feature
    # discovery), e.g. NVIDIA-A100-SXM4-80GB. Default: any GPU.
    gpu_type: str | None = Field(default=None, min_length=1)


class Monitoring(BaseModel):
    """Where stages push their metrics."""

    model_config = ConfigDict(extra="forbid")

    # Pushgateway address, e.g. http://localhost:9091; the XSTILTS_PUSHGATEWAY environment
    # variable takes precedence. On a cluster the default is k8s/'s in-namespace service.
    pushgateway: str | None = Field(default=None, pattern=r"^https?://\S+$")


class StudyConfig(BaseModel):
    """A study: the grid and how to train it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    data: DataConfig = DataConfig()
    architectures: list[str] = Field(min_length=1)
    intermediate: list[str] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    seeds: list[int] = Field(default=[0], min_length=1)
    recipe: str = "jiant"
    mixtures: dict[str, list[str]] = {}
    sampling: Sampling = Sampling()
    budget: Budget = Budget()
    # Tatoeba encoder: the intermediate encoder (X-STILTs) or, as XTREME-R's baseline
    # does, the encoder after SQuAD v1.1 training ("squad_v1").
    tatoeba_from: Literal["intermediate", "squad_v1"] = "intermediate"
    # per architecture name: GPUs and GPU type on a cluster (see Resources)
    resources: dict[str, Resources] = {}
    monitoring: Monitoring = Monitoring()

    @field_validator("recipe")
    @classmethod
    def _known_recipe(cls, value: str) -> str:
        if value not in PRESETS:
            raise ValueError(f"unknown recipe '{value}'; valid: {', '.join(PRESETS)}")
        return value

    @field_validator("targets")
    @classmethod
    def _known_targets(cls, values: list[str]) -> list[str]:
        valid = [*TARGET_NAMES, *BENCHMARKS]
        for value in values:
            if value not in valid:
                raise ValueError(f"unknown target '{value}'; valid: {', '.join(valid)}")
        return values

    @field_validator("mixtures")
    @classmethod
    def _known_members(cls, mixtures: dict[str, list[str]]) -> dict[str, list[str]]:
        plain = [t for t in INTERMEDIATE_NAMES if CATALOGUE[t].type != "mixture"]
        for name, members in mixtures.items():
            if name in CATALOGUE or name == NONE:
                raise ValueError(f"mixture name '{name}' is taken by a catalogue task")
            for member in members:
                if member not in plain:
                    raise ValueError(f"mixture '{name}': unknown member '{member}'; valid: "
                                     f"{', '.join(plain)}")
        return mixtures

    def model_post_init(self, _context: object) -> None:
        valid = [NONE, *INTERMEDIATE_NAMES, *self.mixtures]
        for value in self.intermediate:
            if value not in valid:
                raise UserError(f"intermediate: unknown setting '{value}'; valid: "
                                f"{', '.join(valid)}")
        for name in self.resources:
            if name not in self.architectures:
                raise UserError(f"resources: '{name}' is not one of the study's "
                                f"architectures ({', '.join(self.architectures)})")

    def processes(self, architecture: str) -> int:
        """Data-parallel training processes of an architecture (its configured GPUs)."""
        resources = self.resources.get(architecture)
        return resources.gpus if resources is not None and resources.gpus else 1

    def target_tasks(self) -> list[Task]:
        """Targets, with benchmark names expanded, in catalogue order."""
        names: set[str] = set()
        for value in self.targets:
            names.update(TASK2LANGS[value] if value in BENCHMARKS else [value])
        return [CATALOGUE[n] for n in TARGET_NAMES if n in names]

    def members(self, intermediate: str) -> list[Task]:
        """The plain intermediate tasks an intermediate setting trains on."""
        if intermediate in self.mixtures:
            return [get_task(m) for m in self.mixtures[intermediate]]
        task = get_task(intermediate)
        return [get_task(m) for m in task.members] if task.members else [task]

    def data_tasks(self) -> list[str]:
        """Every catalogue task whose data the study reads: targets and intermediate tasks."""
        names = [t.name for t in self.target_tasks()]
        names += [t.name for i in self.intermediate if i != NONE for t in self.members(i)]
        return list(dict.fromkeys(names))


def load_study(path: Path) -> StudyConfig:
    """Read and validate a study config; errors name the field and the valid values."""
    return validated(StudyConfig, read_mapping(path), path)


# --------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class Stage:
    """One unit of work of the grid."""

    kind: Literal["intermediate", "target", "evaluate"]
    architecture: str
    intermediate: str
    seed: int
    target: str | None
    key: str
    needs: tuple[str, ...] = field(default=())  # keys of the stages whose outputs it reads

    @property
    def label(self) -> str:
        parts = [self.kind, self.architecture, self.intermediate, f"seed{self.seed}"]
        return "/".join([*parts, self.target] if self.target else parts)


def code_version() -> str:
    """The package version plus the git commit of the source tree, when there is one, and a
    hash of uncommitted changes to the code (so edited code never reuses cached stages)."""
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        try:
            result = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                    text=True, check=False)
        except FileNotFoundError:
            return ""
        return result.stdout if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD").strip()
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        return xstilts.__version__
    version = f"{xstilts.__version__}+{commit[:12]}"
    diff = git("diff", "HEAD", "--", "src", "components", "pipelines")
    for name in git("ls-files", "--others", "--exclude-standard", "--", "src", "components",
                    "pipelines").split():
        if name.endswith(".py"):
            diff += name + (root / name).read_text(encoding="utf-8", errors="replace")
    if diff:
        version += ".dirty" + hashlib.sha256(diff.encode()).hexdigest()[:8]
    return version


def stage_key(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def trains_target(task: Task) -> bool:
    return task.type not in RETRIEVAL_WITHOUT_TRAINING


def training_of(task: Task) -> tuple:
    """What a target's training depends on: targets with the same English training
    corpora, objective and model-selection set share one trained model (XQuAD and MLQA
    both train on SQuAD v1.1)."""
    return (task.train_corpora, task.type, task.dev_corpus, task.labels)


def plan(config: StudyConfig, data_version: str, code: str,
         model_versions: dict[str, str]) -> list[Stage]:
    """Stages in dependency order. ``model_versions`` maps each architecture to a
    fingerprint of its pretrained weights (so a rebuilt model invalidates its stages)."""
    common = (data_version, code, config.recipe, config.budget.model_dump())
    stages: dict[str, Stage] = {}
    for arch in config.architectures:
        for inter in config.intermediate:
            for seed in config.seeds:
                base = (arch, model_versions[arch], seed, *common)
                if config.processes(arch) > 1:  # other batch shards, other dropout masks
                    base = (*base, {"processes": config.processes(arch)})
                inter_key = None
                if inter != NONE:
                    members = [t.name for t in config.members(inter)]
                    inter_key = stage_key("intermediate", *base, members,
                                          config.sampling.model_dump())
                    stages[inter_key] = Stage("intermediate", arch, inter, seed, None,
                                              inter_key)
                from_inter = (inter_key,) if inter_key else ()

                def target_stage(task: Task) -> str:
                    key = stage_key("target", *base, inter_key, training_of(task))
                    stages.setdefault(key, Stage("target", arch, inter, seed, task.name, key,
                                                 from_inter))
                    return key

                for task in config.target_tasks():
                    if trains_target(task):
                        needs = (target_stage(task),)
                    elif task.name == "tatoeba" and config.tatoeba_from == "squad_v1":
                        needs = (target_stage(get_task("xquad")),)
                    else:
                        needs = from_inter
                    key = stage_key("evaluate", *base, needs, task.name,
                                    config.budget.max_eval_examples)
                    stages[key] = Stage("evaluate", arch, inter, seed, task.name, key, needs)
    return _dependency_order(list(stages.values()))


def _dependency_order(stages: list[Stage]) -> list[Stage]:
    """Intermediate stages first, then targets, then evaluations (stable within a kind)."""
    order = {"intermediate": 0, "target": 1, "evaluate": 2}
    return sorted(stages, key=lambda s: order[s.kind])
