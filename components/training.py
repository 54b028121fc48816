"""Training components: the intermediate encoder and the target models."""


from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from components import IMAGE


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train_intermediate(config_json: str, architecture: str, intermediate: str, seed: int,
                       data: Input[Dataset], model: Output[Model]):
    """Train one (architecture, intermediate setting, seed) encoder with its task heads."""
    from pathlib import Path

    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.training.stages import train_intermediate as run

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    arch = resolve_architecture(architecture, data_dir)
    out = Path(model.path)
    out.mkdir(parents=True, exist_ok=True)
    run(arch, config.members(intermediate), data_dir, out, config.recipe, config.sampling,
        config.budget, seed)
    model.metadata.update({"architecture": architecture, "intermediate": intermediate,
                           "seed": seed, "data_version": data.metadata.get("data_version")})


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train_target(config_json: str, architecture: str, intermediate: str, seed: int,
                 target: str, data: Input[Dataset], model: Output[Model],
                 init: Input[Model] = None) -> str:
    """Train a target from the pretrained model (no ``init``) or an intermediate encoder.

    Mewsli-X and LAReQA train a dual encoder (``train_any_target``). Returns the
    English dev score that selected the model, as a JSON row for the report.
    """
    import json
    from pathlib import Path

    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task
    from xstilts.training.stages import train_any_target

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    arch = resolve_architecture(architecture, data_dir)
    task = get_task(target)
    start = Path(init.path) if init is not None else None
    out = Path(model.path)
    out.mkdir(parents=True, exist_ok=True)
    train_any_target(arch, start, task, data_dir, out, config.recipe, config.budget, seed)
    log = json.loads((out / "training_log.json").read_text(encoding="utf-8"))
    results = log.get("results") or [{}]
    dev = results[-1].get("best_score") if isinstance(results, list) else None
    model.metadata.update({"architecture": architecture, "intermediate": intermediate,
                           "seed": seed, "target": target,
                           "initialised_from": "intermediate" if start else "pretrained",
                           "data_version": data.metadata.get("data_version")})
    return json.dumps({"architecture": architecture, "intermediate": intermediate,
                       "seed": seed, "target": target, "dev_score": dev})
