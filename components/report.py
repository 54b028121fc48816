"""Fan-in report and the exit handler's outcome record."""

# No "from __future__ import annotations" in component modules: KFP reads the real types.


from typing import List

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Metrics, Output

from components import IMAGE


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def report(config_json: str, scores: List[str], dev: List[str], data: Input[Dataset],
           markdown: Output[Markdown], html: Output[HTML], tables: Output[Dataset],
           summary: Output[Metrics]):
    """Gather every evaluation's score rows (one JSON list per evaluation task) and the
    English dev scores of the trained targets into scores/gains tables and the report."""
    import json
    import shutil
    from pathlib import Path

    from xstilts.analysis.report import write_report
    from xstilts.analysis.results import gains_frame, scores_frame, write_frame
    from xstilts.study import StudyConfig

    config = StudyConfig.model_validate_json(config_json)
    rows = [row for item in scores for row in json.loads(item)]
    dev_rows = [json.loads(item) for item in dev]
    frame = scores_frame(rows)
    gains = gains_frame(frame)
    out = Path(tables.path)
    out.mkdir(parents=True, exist_ok=True)
    write_frame(frame, out, "scores")
    write_frame(gains, out, "gains")
    write_report(config, frame, gains, out / "report",
                 synthetic=bool(data.metadata.get("synthetic", False)), dev=dev_rows)
    Path(markdown.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "report" / "report.md", markdown.path)
    Path(html.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "report" / "report.html", html.path)
    summary.log_metric("evaluations", float(len(scores)))
    summary.log_metric("score_rows", float(len(rows)))
    if "gain" in gains:
        summary.log_metric("mean_gain", float(gains["gain"].mean()) if len(gains) else 0.0)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def record_outcome(study: str, data_root: str, status: dsl.PipelineTaskFinalStatus) -> str:
    """Exit task: write the run's final state to ``<data_root>/runs/<study>/outcome-<run>.json``
    (and the log). Not cached: it records external state."""
    import json
    import time
    from pathlib import Path

    outcome = {"study": study, "state": status.state, "error_code": status.error_code,
               "error_message": status.error_message,
               "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    text = json.dumps(outcome)
    print(text)
    try:
        folder = Path(data_root) / "runs" / study
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"outcome-{int(time.time())}.json").write_text(text + "\n", encoding="utf-8")
    except OSError as exc:  # a missing volume must not fail the exit handler
        print(f"could not write the outcome file: {exc}")
    return status.state
