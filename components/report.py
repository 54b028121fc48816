"""Collecting the evaluations, the report, publication of the results, and the exit
handler's outcome record."""

# No "from __future__ import annotations" in component modules: KFP reads the real types.


from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Metrics, Output

from components import IMAGE
from components.generated import component_from_source
from xstilts.artifacts import FANIN


_COLLECT_TEMPLATE = """\
def collect(collected: Output[Dataset], {inputs}) -> int:
    \"\"\"Merge up to {width} evaluation outputs or earlier collections into one folder
    (``xstilts.artifacts``); returns how many evaluations it holds.\"\"\"
    from pathlib import Path

    from xstilts.artifacts import merge

    parts = [p for p in ({names},) if p is not None]
    return merge([Path(p.path) for p in parts], Path(collected.path))
"""

collect = component_from_source("collect", _COLLECT_TEMPLATE.format(
    width=FANIN, inputs=",\n            ".join(f"part_{i}: Input[Dataset] = None"
                                           for i in range(FANIN)),
    names=", ".join(f"part_{i}" for i in range(FANIN))))
"""Merges at most FANIN evaluation outputs (a bounded fan-in: see ``xstilts.artifacts``)."""


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def report(config_json: str, code_version: str, stages: int, collected: Input[Dataset],
           data: Input[Dataset], markdown: Output[Markdown], html: Output[HTML],
           results: Output[Dataset], summary: Output[Metrics], metrics_dir: str = ""):
    """Turn the collected evaluations into the run's results: the same scores/gains tables,
    predictions, report and run.json that ``xstilts run --backend engine`` writes."""
    import json
    import shutil
    from pathlib import Path

    from xstilts.artifacts import read_collected, write_metadata
    from xstilts.atomic import write_text
    from xstilts.monitoring.metrics import Identity, observed
    from xstilts.runner import write_results
    from xstilts.study import StudyConfig

    config = StudyConfig.model_validate_json(config_json)
    rows, dev, predictions = read_collected(Path(collected.path))
    out = Path(results.path)
    out.mkdir(parents=True, exist_ok=True)
    with observed(Identity(study=config.name, stage="report"),
                  Path(metrics_dir) if metrics_dir else None):
        record = write_results(config, out, rows, dev, predictions,
                               [Path(collected.path) / "labels"],
                               data_version=data.metadata["data_version"],
                               synthetic=bool(data.metadata.get("synthetic", False)),
                               code=code_version, stages=stages)
    record["data_dvc"] = data.metadata.get("dvc") or None
    write_text(out / "run.json", json.dumps(record, indent=2, default=str) + "\n")
    Path(markdown.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "report" / "report.md", markdown.path)
    Path(html.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "report" / "report.html", html.path)
    results.metadata.update({"data_version": data.metadata["data_version"],
                             "code_version": code_version})
    summary.log_metric("score_rows", float(len(rows)))
    summary.log_metric("trained_models", float(len(dev)))
    # The report's headline numbers (mean gain per architecture and task group, best
    # intermediate per target, rank agreement, significant cells, synthetic_data 0/1).
    headline = json.loads((out / "report" / "headline.json").read_text(encoding="utf-8"))
    for name, value in headline.items():
        summary.log_metric(name, float(value))
    write_metadata(summary)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def publish(run_dir: str, results: Input[Dataset]) -> str:
    """Copy the report's results into ``run_dir`` (a folder on the shared volume; the
    user's run folder with kfp.local). Not cached: it writes outside the artifact store.
    Each entry is replaced atomically, so a reader never sees a half-copied folder."""
    import shutil
    from pathlib import Path

    from xstilts.atomic import atomic_path

    source, target = Path(results.path), Path(run_dir)
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        with atomic_path(target / entry.name) as staged:
            if entry.is_dir():
                shutil.copytree(entry, staged)
            else:
                shutil.copyfile(entry, staged)
    return str(target)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def record_outcome(study: str, run_dir: str, data_version: str,
                   status: dsl.PipelineTaskFinalStatus) -> str:
    """Exit task: write the run's final state to ``<run_dir>/outcome.json`` (and the log),
    push the run's outcome metrics and write ``<run_dir>/metrics.prom`` (every stage's
    metrics and the run's). Not cached: it records external state."""
    import json
    import time
    from pathlib import Path

    outcome = {"study": study, "state": status.state, "error_code": status.error_code,
               "error_message": status.error_message, "data_version": data_version,
               "pipeline_job": status.pipeline_job_resource_name,
               "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    text = json.dumps(outcome)
    print(text)
    try:
        from xstilts.atomic import write_text

        from xstilts.monitoring.metrics import finish_run

        write_text(Path(run_dir) / "outcome.json", text + "\n")
        finish_run(Path(run_dir), study, status.state == "SUCCEEDED", None)
    except OSError as exc:  # a missing volume must not fail the exit handler
        print(f"could not write the outcome file or the metrics: {exc}")
    return status.state
