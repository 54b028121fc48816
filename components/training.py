"""Training components: the intermediate encoder and the target models."""


from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from components import IMAGE


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train_intermediate(config_json: str, architecture: str, intermediate: str, seed: int,
                       data: Input[Dataset], model: Output[Model], resume_dir: str = "",
                       metrics_dir: str = ""):
    """Train one (architecture, intermediate setting, seed) encoder with its task heads.

    ``resume_dir`` (on the shared volume, one per stage) keeps the training loop's state at
    every validation, per data version: a retried pod continues where a preempted one
    stopped. With ``resources.<architecture>.gpus`` > 1 in the config it trains
    data-parallel over the pod's GPUs (torchrun). Its metrics go to ``metrics_dir`` and the
    Pushgateway (``xstilts.monitoring``)."""
    from pathlib import Path

    from xstilts.models.registry import resolve_architecture
    from xstilts.monitoring.metrics import Identity, observed, training_monitor
    from xstilts.study import StudyConfig
    from xstilts.training.distributed import run_stage

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    arch = resolve_architecture(architecture, data_dir)
    out = Path(model.path)
    out.mkdir(parents=True, exist_ok=True)
    resume = Path(resume_dir) / data.metadata["data_version"] if resume_dir else None
    identity = Identity.for_stage(config.name, "intermediate", architecture, intermediate, seed)
    folder = Path(metrics_dir) if metrics_dir else None
    with observed(identity, folder):
        run_stage("train_intermediate", config.processes(architecture), arch=arch,
                  tasks=config.members(intermediate), data_dir=data_dir, out=out,
                  preset=config.recipe, sampling=config.sampling, budget=config.budget,
                  seed=seed, resume_dir=resume, monitor=training_monitor(identity, folder))
    model.metadata.update({"architecture": architecture, "intermediate": intermediate,
                           "seed": seed, "data_version": data.metadata.get("data_version")})


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train_target(config_json: str, architecture: str, intermediate: str, seed: int,
                 target: str, data: Input[Dataset], model: Output[Model],
                 init: Input[Model] = None, resume_dir: str = "", metrics_dir: str = ""):
    """Train a target from the pretrained model (no ``init``) or an intermediate encoder.

    Mewsli-X and LAReQA train a dual encoder (``train_any_target``). ``resume_dir`` as for
    ``train_intermediate``. The model folder holds the training log, whose English dev
    score the evaluations pass on to the report.
    """
    from pathlib import Path

    from xstilts.models.registry import resolve_architecture
    from xstilts.monitoring.metrics import Identity, observed, training_monitor
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task
    from xstilts.training.distributed import run_stage

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    arch = resolve_architecture(architecture, data_dir)
    start = Path(init.path) if init is not None else None
    out = Path(model.path)
    out.mkdir(parents=True, exist_ok=True)
    resume = Path(resume_dir) / data.metadata["data_version"] if resume_dir else None
    identity = Identity.for_stage(config.name, "target", architecture, intermediate, seed,
                                  target)
    folder = Path(metrics_dir) if metrics_dir else None
    with observed(identity, folder):
        run_stage("train_any_target", config.processes(architecture), arch=arch, init=start,
                  task=get_task(target), data_dir=data_dir, out=out, preset=config.recipe,
                  budget=config.budget, seed=seed, resume_dir=resume,
                  monitor=training_monitor(identity, folder))
    model.metadata.update({"architecture": architecture, "intermediate": intermediate,
                           "seed": seed, "target": target,
                           "initialised_from": "intermediate" if start else "pretrained",
                           "data_version": data.metadata.get("data_version")})
