"""Evaluation components: trained targets, and bitext retrieval (BUCC, Tatoeba) from an
encoder that was not trained on the target (intermediate, pretrained or SQuAD-tuned)."""


from kfp import dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from components import IMAGE


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate(config_json: str, architecture: str, intermediate: str, seed: int, target: str,
             data: Input[Dataset], model: Input[Model], predictions: Output[Dataset],
             metrics: Output[Metrics], classification: Output[ClassificationMetrics]) -> str:
    """Zero-shot evaluation of a trained target model in every language.

    ``metrics`` gets one scalar per language and metric (``xnli.de.accuracy``);
    ``classification`` gets the confusion matrix pooled over languages for label
    classification targets (XNLI, PAWS-X; empty otherwise). ``predictions`` holds the
    predictions, labels and scores.json in the leaderboard layout. Returns the score rows
    (JSON, one per language and metric, with the cell) for the report.
    """
    import json
    from pathlib import Path

    from xstilts.evaluation.stages import evaluate_target
    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    arch = resolve_architecture(architecture, data_dir)
    task = get_task(target)
    out = Path(predictions.path)
    out.mkdir(parents=True, exist_ok=True)
    evaluate_target(arch, Path(model.path), task, data_dir, out, config.recipe, config.budget)
    rows = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    for row in rows:
        metrics.log_metric(f"{target}.{row['language']}.{row['metric']}", float(row["value"]))
    if task.labels and task.type.endswith("classification"):
        categories = list(task.labels)
        index = {label: i for i, label in enumerate(categories)}
        matrix = [[0] * len(categories) for _ in categories]
        for gold_file in sorted((out / "labels" / target).glob("test-*")):
            pred_file = out / "predictions" / target / gold_file.name
            if not pred_file.is_file():
                continue
            gold = gold_file.read_text(encoding="utf-8").splitlines()
            pred = pred_file.read_text(encoding="utf-8").splitlines()
            for g, p in zip(gold, pred):
                if g in index and p in index:
                    matrix[index[g]][index[p]] += 1
        classification.log_confusion_matrix(categories, matrix)
    cell = {"architecture": architecture, "intermediate": intermediate, "seed": seed,
            "target": target}
    predictions.metadata.update(cell)
    return json.dumps([{**cell, **row} for row in rows])


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate_retrieval(config_json: str, architecture: str, intermediate: str, seed: int,
                       target: str, data: Input[Dataset], predictions: Output[Dataset],
                       metrics: Output[Metrics], encoder: Input[Model] = None) -> str:
    """BUCC / Tatoeba with no target training: the encoder is the intermediate checkpoint,
    the SQuAD-tuned model (``tatoeba_from: squad_v1``) or, without ``encoder``, the
    pretrained model. Outputs and return value as ``evaluate``."""
    import json
    from pathlib import Path

    from xstilts.evaluation.stages import evaluate_target
    from xstilts.models.registry import resolve_architecture
    from xstilts.study import StudyConfig
    from xstilts.tasks.catalogue import get_task

    config = StudyConfig.model_validate_json(config_json)
    data_dir = Path(data.metadata["data_dir"])
    arch = resolve_architecture(architecture, data_dir)
    init = Path(encoder.path) if encoder is not None else None
    out = Path(predictions.path)
    out.mkdir(parents=True, exist_ok=True)
    evaluate_target(arch, init, get_task(target), data_dir, out, config.recipe, config.budget)
    rows = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    for row in rows:
        metrics.log_metric(f"{target}.{row['language']}.{row['metric']}", float(row["value"]))
    cell = {"architecture": architecture, "intermediate": intermediate, "seed": seed,
            "target": target}
    predictions.metadata.update(cell)
    return json.dumps([{**cell, **row} for row in rows])
