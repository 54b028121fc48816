"""Evaluation components: trained targets, and bitext retrieval (BUCC, Tatoeba) from an
encoder that was not trained on the target (intermediate, pretrained or SQuAD-tuned).

Every evaluation logs one ``Metrics`` scalar per language and metric (``xnli.de.accuracy``)
and leaves its scores (and, for a trained target model, that model's English dev score) in
``record.json`` beside its predictions, where the collect tasks find them
(``xstilts.artifacts``).
Label classification targets (XNLI, PAWS-X) also publish one ``ClassificationMetrics``
(confusion matrix) per language, which the Kubeflow UI draws.
"""


from typing import Callable

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

from components import IMAGE
from components.generated import component_from_source


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate(config_json: str, architecture: str, intermediate: str, seed: int, target: str,
             data: Input[Dataset], model: Input[Model], predictions: Output[Dataset],
             metrics: Output[Metrics], metrics_dir: str = ""):
    """Zero-shot evaluation of a trained target model in every language."""
    import json
    from pathlib import Path

    from xstilts.evaluation.stages import evaluate_target
    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task
    from xstilts.artifacts import dev_record, log_scores, write_record
    from xstilts.monitoring.metrics import observed_evaluation

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    out = Path(predictions.path)
    out.mkdir(parents=True, exist_ok=True)
    with observed_evaluation(config.name, architecture, intermediate, seed, target,
                             metrics_dir) as stage:
        evaluate_target(resolve_architecture(architecture, data_dir), Path(model.path),
                        get_task(target), data_dir, out, config.recipe, config.budget)
        rows = json.loads((out / "scores.json").read_text(encoding="utf-8"))
        stage.scores(rows)
    log_scores(metrics, target, rows)
    cell = {"architecture": architecture, "intermediate": intermediate, "seed": seed,
            "target": target}
    predictions.metadata.update(cell)
    write_record(out, cell, rows, dev_record(Path(model.path), model.metadata))


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate_retrieval(config_json: str, architecture: str, intermediate: str, seed: int,
                       target: str, data: Input[Dataset], predictions: Output[Dataset],
                       metrics: Output[Metrics], encoder: Input[Model] = None,
                       metrics_dir: str = ""):
    """BUCC / Tatoeba with no target training: the encoder is the intermediate checkpoint,
    the SQuAD-tuned model (``tatoeba_from: squad_v1``) or, without ``encoder``, the
    pretrained model. Outputs as ``evaluate``."""
    import json
    from pathlib import Path

    from xstilts.evaluation.stages import evaluate_target
    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task
    from xstilts.artifacts import dev_record, log_scores, write_record
    from xstilts.monitoring.metrics import observed_evaluation

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    init = Path(encoder.path) if encoder is not None else None
    out = Path(predictions.path)
    out.mkdir(parents=True, exist_ok=True)
    with observed_evaluation(config.name, architecture, intermediate, seed, target,
                             metrics_dir) as stage:
        evaluate_target(resolve_architecture(architecture, data_dir), init, get_task(target),
                        data_dir, out, config.recipe, config.budget)
        rows = json.loads((out / "scores.json").read_text(encoding="utf-8"))
        stage.scores(rows)
    log_scores(metrics, target, rows)
    cell = {"architecture": architecture, "intermediate": intermediate, "seed": seed,
            "target": target}
    predictions.metadata.update(cell)
    dev = dev_record(init, encoder.metadata) if init is not None else None
    write_record(out, cell, rows, dev)


# ------------------------------------------------------- classification: one matrix per language

_CLASSIFICATION_TEMPLATE = '''\
def evaluate_{task}(config_json: str, architecture: str, intermediate: str, seed: int,
                    target: str, data: Input[Dataset], model: Input[Model],
                    predictions: Output[Dataset], metrics: Output[Metrics],
                    {outputs}, metrics_dir: str = ""):
    """``evaluate`` for {task}, plus one confusion matrix per language."""
    import json
    from pathlib import Path

    from xstilts.evaluation.stages import confusion_matrices, evaluate_target
    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task
    from xstilts.artifacts import dev_record, log_scores, write_metadata, write_record
    from xstilts.monitoring.metrics import observed_evaluation

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    task = get_task(target)
    out = Path(predictions.path)
    out.mkdir(parents=True, exist_ok=True)
    with observed_evaluation(config.name, architecture, intermediate, seed, target,
                             metrics_dir) as stage:
        evaluate_target(resolve_architecture(architecture, data_dir), Path(model.path), task,
                        data_dir, out, config.recipe, config.budget)
        rows = json.loads((out / "scores.json").read_text(encoding="utf-8"))
        stage.scores(rows)
    log_scores(metrics, target, rows)
    matrices = confusion_matrices(out, task)
    for language, artifact in {{{mapping}}}.items():
        if language in matrices:
            artifact.log_confusion_matrix(list(task.labels), matrices[language])
        write_metadata(artifact)
    cell = {{"architecture": architecture, "intermediate": intermediate, "seed": seed,
             "target": target}}
    predictions.metadata.update(cell)
    write_record(out, cell, rows, dev_record(Path(model.path), model.metadata))
'''


def _classification_component(task: str, languages: tuple[str, ...]) -> Callable:
    """``evaluate`` with one ``ClassificationMetrics`` output per language of ``task``."""
    outputs = ", ".join(f"confusion_{lang}: Output[ClassificationMetrics]" for lang in languages)
    mapping = ", ".join(f"'{lang}': confusion_{lang}" for lang in languages)
    return component_from_source(
        f"evaluate_{task}",
        _CLASSIFICATION_TEMPLATE.format(task=task, outputs=outputs, mapping=mapping))


def _classification_components() -> dict[str, Callable]:
    from xstilts.tasks.catalogue import CATALOGUE

    return {t.name: _classification_component(t.name, t.all_languages())
            for t in CATALOGUE.values()
            if t.role == "target" and t.labels and t.type.endswith("classification")}


CLASSIFICATION = _classification_components()
"""Target name → its evaluation component with per-language confusion matrices."""


def evaluation_component(target: str) -> Callable:
    """The component that evaluates a trained ``target``."""
    return CLASSIFICATION.get(target, evaluate)
