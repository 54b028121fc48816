"""The ``xstilts`` command line."""

from __future__ import annotations

import errno
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from xstilts.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="English intermediate-task training for zero-shot cross-lingual "
                       "transfer on XTREME and XTREME-R.")
data_app = typer.Typer(no_args_is_help=True, help="Fetch and convert benchmark data.")
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)


def _split_names(values: list[str] | None) -> list[str] | None:
    """Accept ``--tasks a,b`` and ``--tasks a --tasks b``."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


# --------------------------------------------------------------------------- tasks

def task_record(task: Any) -> dict:
    """JSON form of a catalogue task, with the sources of every unit it needs."""
    from xstilts.data.fetch import units_for

    record = task.model_dump(exclude={"train_corpora", "extra_languages"}, exclude_none=True)
    record["train"] = list(task.train_corpora)
    record["no_target_training"] = task.role == "target" and not task.train_corpora
    if task.role == "target":
        record["languages"] = {b: list(langs) for b, langs in task.languages.items()}
        if task.extra_languages:
            record["evaluated_languages"] = list(task.all_languages())
    else:
        record.pop("languages", None)
    if not task.members:
        record.pop("members", None)
    record["sources"] = [
        {"corpus": u.corpus, "language": u.language, "split": u.split,
         "from": [s.model_dump(exclude_none=True) for s in u.sources]}
        for u in units_for([task.name])]
    return record


@app.command("tasks")
def tasks_command(
    benchmark: Annotated[Optional[str], typer.Option(help="xtreme or xtreme-r")] = None,
    role: Annotated[Optional[str], typer.Option(help="intermediate or target")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the task catalogue."""
    from xstilts.tasks import list_tasks

    tasks = list_tasks(benchmark=benchmark, role=role)
    if as_json:
        print(json.dumps([task_record(t) for t in tasks], indent=2, ensure_ascii=False))
        return
    table = Table("name", "role", "type", "metric", "trains on", "languages")
    for t in tasks:
        if t.role == "target":
            langs = "; ".join(f"{b}: {len(v)}" for b, v in t.languages.items())
            if t.extra_languages:
                langs += f" (evaluated: {len(t.all_languages())})"
            trains = " then ".join(t.train_corpora) or "none (encoder evaluated directly)"
        else:
            langs = "en"
            trains = (f"mixture of {len(t.members)} tasks" if t.members
                      else " ".join(t.train_corpora))
        table.add_row(t.name, t.role, t.type, t.metric, trains, langs)
    out.print(table)


# --------------------------------------------------------------------------- data

@data_app.command("fetch")
def fetch_command(
    tasks: Annotated[Optional[list[str]], typer.Option(
        "--tasks", help="Tasks to fetch (comma-separated or repeated); default: all.")] = None,
    source: Annotated[Optional[str], typer.Option(help="hub or synthetic")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Output folder.")] = None,
    hub_mirror: Annotated[Optional[Path], typer.Option(
        help="Read hub datasets from this folder of hub-layout repositories.")] = None,
    raw_dir: Annotated[Optional[Path], typer.Option(
        "--raw", help="Folder of original downloads and licensed files (default OUT/raw).")
    ] = None,
    pin: Annotated[Optional[list[str]], typer.Option(
        help="Pin a dataset revision: DATASET=REVISION (repeatable).")] = None,
    config: Annotated[Optional[Path], typer.Option(
        help="Study config whose 'data' section sets these options.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the synthetic data.")] = None,
) -> None:
    """Convert benchmark sources into canonical Parquet tables plus a manifest."""
    from xstilts.config import DataConfig, load_data_config
    from xstilts.data.fetch import fetch, units_for

    cfg = load_data_config(config) if config else DataConfig()
    source = source or cfg.source
    if source not in ("hub", "synthetic"):
        raise UserError(f"unknown source '{source}'; choose hub or synthetic")
    target = out_dir or cfg.out
    pins = dict(cfg.revisions)
    for item in pin or []:
        dataset, sep, revision = item.partition("=")
        if not sep or not dataset or not revision:
            raise UserError(f"--pin {item!r}: expected DATASET=REVISION")
        pins[dataset] = revision
    units = units_for(_split_names(tasks))
    loader = _loader(source, hub_mirror or cfg.hub_mirror, raw_dir or cfg.raw_dir or
                     target / "raw", pins, cfg.seed if seed is None else seed)
    label = "SYNTHETIC data (offline stand-in for the benchmarks)" if source == "synthetic" \
        else "data from the Hugging Face Hub and original sources"
    err.print(f"Fetching {len(units)} tables of {label} into {target}")
    with loader, _progress() as progress:
        bar = progress.add_task("converting", total=len(units))
        manifest = fetch(units, loader, target, synthetic=source == "synthetic",
                         origin=source, on_unit=lambda unit: progress.advance(bar))
    rows = sum(u["rows"] for u in manifest["units"])
    note = " [SYNTHETIC]" if manifest["synthetic"] else ""
    out.print(f"Wrote {len(units)} tables to {target}{note}; the folder now holds "
              f"{len(manifest['units'])} tables, {rows} rows, data version "
              f"{manifest['data_version'][:12]}")
    from xstilts.data.versioning import record

    recorded = record(target)
    if recorded is not None:
        out.print(f"Recorded with DVC in {recorded['dvc_file']} (md5 {recorded['dvc_md5']}); "
                  f"commit it and 'xstilts data push' to share this version")


@data_app.command("labels")
def labels_command(
    benchmark: Annotated[str, typer.Option(help="xtreme or xtreme-r")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <task>/test-<lang> files.")],
    data: Annotated[Path, typer.Option(help="Canonical data folder.")] = Path("data"),
    tasks: Annotated[Optional[list[str]], typer.Option(
        "--tasks", help="Target tasks (comma-separated or repeated); default: all.")] = None,
) -> None:
    """Write the gold labels of the test tables in the leaderboard layout."""
    from xstilts.data.fetch import read_manifest
    from xstilts.evaluation.gold import export_labels

    written = export_labels(data, benchmark, out_dir, _split_names(tasks))
    note = " from SYNTHETIC data" if read_manifest(data)["synthetic"] else ""
    out.print(f"Wrote {len(written)} label files{note} to {out_dir}")


@data_app.command("push")
def push_command(
    data: Annotated[Path, typer.Option(help="Data folder (tracked by DATA.dvc).")] = Path("data"),
    remote: Annotated[Optional[str], typer.Option(help="DVC remote (default: the "
                                                       "repository's default remote).")] = None,
) -> None:
    """Upload the recorded data version to the DVC remote."""
    from xstilts.data.versioning import push

    sent = push(data, remote)
    out.print(f"Pushed {data} ({sent} files sent; the rest were already there)")


@data_app.command("pull")
def pull_command(
    data: Annotated[Path, typer.Option(help="Data folder (tracked by DATA.dvc).")] = Path("data"),
    rev: Annotated[Optional[str], typer.Option(
        help="Git revision whose data version to restore (default: the current DATA.dvc).")
    ] = None,
    remote: Annotated[Optional[str], typer.Option(help="DVC remote to pull from.")] = None,
) -> None:
    """Make the data folder hold a recorded version, from the DVC cache or remote."""
    from xstilts.data.versioning import pull

    pulled = pull(data, rev, remote)
    out.print(f"{data} now holds the version of {rev or 'the working tree'} "
              f"(md5 {pulled.get('dvc_md5')})")


@data_app.command("status")
def status_command(
    data: Annotated[Path, typer.Option(help="Data folder (tracked by DATA.dvc).")] = Path("data"),
) -> None:
    """Say whether the data folder matches its recorded version (exit 1 when it does not)."""
    from xstilts.data.versioning import status

    report = status(data)
    messages = {"match": f"{data} matches {data}.dvc",
                "modified": f"{data} differs from {data}.dvc",
                "missing": f"{data} is missing: run 'xstilts data pull'",
                "untracked": f"{data} has no recorded version ({data}.dvc): "
                             "run 'xstilts data fetch'"}
    out.print(messages[report["state"]])
    for change in report["changed"]:
        out.print(f"  {change}")
    if report["state"] != "match":
        raise typer.Exit(1)


@data_app.command("validate")
def validate_command(
    data: Annotated[Path, typer.Option(help="Canonical data folder.")] = Path("data"),
    tasks: Annotated[Optional[list[str]], typer.Option(
        "--tasks", help="Validate the data these tasks need (comma-separated or repeated); "
                        "default: every table the folder holds.")] = None,
    report: Annotated[Optional[Path], typer.Option(
        help="Write Data Docs (HTML), summary.md and failures.json into this folder.")
    ] = None,
) -> None:
    """Run the Great Expectations suites of the task catalogue (exit 1 on any failure)."""
    from xstilts.validation.validate import validate

    with err.status(f"Validating {data}"):
        outcome = validate(data, _split_names(tasks), report)
    for failure in outcome.failures:
        out.print(f"[red]FAILED[/red] {escape(failure.line())}", highlight=False,
                  soft_wrap=True)
        for example in failure.examples[:3]:
            out.print(f"    {escape(json.dumps(example, ensure_ascii=False)[:200])}",
                      highlight=False, soft_wrap=True)
    note = " [SYNTHETIC]" if outcome.synthetic else ""
    verdict = "passed" if outcome.success else f"failed {len(outcome.failures)}"
    out.print(f"{data}{note}: {len(outcome.groups)} table groups, {outcome.checks} "
              f"expectations, {verdict} ({outcome.seconds:.1f} s)")
    if report is not None:
        out.print(f"Report: {report / 'summary.md'}; Data Docs: {outcome.data_docs}")
    if not outcome.success:
        raise typer.Exit(1)


def _loader(source: str, mirror: Path | None, raw_dir: Path, pins: dict[str, str],
            seed: int) -> Any:
    if source == "synthetic":
        from xstilts.data.synthetic import SyntheticSource

        return SyntheticSource(seed=seed)
    from xstilts.data.hub import SourceReader

    if mirror is not None and not mirror.is_dir():
        raise UserError(f"hub mirror {mirror} is not a folder")
    return SourceReader(mirror=mirror, raw_dir=raw_dir, pins=pins)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    TimeElapsedColumn(), console=err, transient=True)


# --------------------------------------------------------------------------- models

models_app = typer.Typer(no_args_is_help=True, help="Model utilities.")
app.add_typer(models_app, name="models")


@models_app.command("build-tiny")
def build_tiny_command(
    data: Annotated[Path, typer.Option(help="Canonical data folder (its text trains the "
                                            "tokenizers; models go to DATA/models).")]
    = Path("data"),
    seed: Annotated[int, typer.Option(help="Initialisation seed.")] = 0,
) -> None:
    """Build tiny-mbert, tiny-xlmr and tiny-mt5: real model classes with small configs."""
    from xstilts.data.fetch import read_manifest
    from xstilts.models.tiny import build_tiny

    read_manifest(data)  # a clear error when the data folder is missing
    built = build_tiny(data, seed=seed)
    for name, path in built.items():
        out.print(f"{name}: {path}")


# --------------------------------------------------------------------------- run

BACKENDS = ("local", "engine", "kubeflow")
DataRev = Annotated[Optional[str], typer.Option(
    "--data-rev", help="A git revision (tag, branch, sha) of this repository: the run uses "
                       "exactly the data version its data.dvc records, pulled with DVC.")]


def _pipelines() -> Any:
    """Make the repository's ``components``/``pipelines`` packages importable (they live
    beside ``src/``, not in the installed library)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pipelines").is_dir() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        import pipelines
    except ImportError:
        raise UserError("the pipelines package is not importable; run xstilts from a "
                        "checkout of the repository") from None
    return pipelines


@app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="Study config (YAML).")],
    run_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Run folder (default runs/<study name>).")] = None,
    backend: Annotated[str, typer.Option(
        help="local: the study pipeline through kfp.local on this machine (default); "
             "engine: the same stages in this process, without the pipeline; "
             "kubeflow: submit the pipeline to Kubeflow Pipelines at --host.")] = "local",
    host: Annotated[Optional[str], typer.Option(
        help="Kubeflow Pipelines API endpoint (with --backend kubeflow).")] = None,
    experiment: Annotated[Optional[str], typer.Option(
        help="Kubeflow experiment (default: the study name).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="With --backend kubeflow: print what would be submitted.")] = False,
    data_version: Annotated[Optional[str], typer.Option(
        help="The data version the run must find, else it stops before any training "
             "(default: the local data folder's, if there is one; with --backend kubeflow, "
             "'any' accepts whatever the cluster's folder holds).")] = None,
    data_rev: DataRev = None,
) -> None:
    """Run a study; stages that are already done are not run again."""
    from xstilts.study import load_study

    if backend not in BACKENDS:
        raise UserError(f"unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    study = load_study(config)
    if backend == "kubeflow":
        _pipelines()
        from pipelines.submit import describe, submit

        request = describe(study, host, experiment,
                           _data_version(study, data_version, data_rev), data_rev=data_rev)
        _print_submission(submit(study, request, dry_run), dry_run)
        return
    if dry_run:
        raise UserError("--dry-run goes with --backend kubeflow")
    if data_version and backend == "engine":
        raise UserError("--data-version goes with --backend local or kubeflow")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # per-load bars would drown the stage bars
    target = run_dir or Path("runs") / study.name
    if data_rev:
        from xstilts.data.versioning import pull

        pulled = pull(study.data.out, data_rev)
        err.print(f"{study.data.out} now holds the data version of {data_rev} "
                  f"(md5 {pulled.get('dvc_md5')})")
    err.print(f"Study '{study.name}' ({backend}): data in {study.data.out} (synthetic data "
              f"and tiny models are built there first when missing); results in {target}")
    if backend == "local":
        summary = _run_local(study, target, _data_version(study, data_version) or None,
                             data_rev)
        ran = summary["tasks"].get("finished", 0)
        done = summary["tasks"].get("cached", 0)
    else:
        summary = _run_engine(study, target)
        ran = sum(1 for t in summary["timings"] if t["status"] == "ran")
        done = len(summary["timings"]) - ran
    note = " on SYNTHETIC data" if summary["data_synthetic"] else ""
    unit = "pipeline tasks" if backend == "local" else "stages"
    out.print(f"Study '{study.name}'{note}: {ran} {unit} ran, {done} were already done, "
              f"{summary['seconds']:.0f} s.")
    out.print(f"Results: {target}/scores.csv, {target}/gains.csv, "
              f"{target}/report/report.md")


def _data_version(study: Any, option: Optional[str], data_rev: Optional[str] = None) -> str:
    """The data version a cluster run is pinned to: the option, else the version recorded
    at ``data_rev``, else the local data folder's version when there is one, else none."""
    if data_rev and not option:
        from xstilts.data.versioning import data_version_at

        return data_version_at(study.data.out, data_rev)
    if option == "any":
        return ""
    if option:
        if not re.fullmatch(r"[0-9a-f]{64}", option):
            raise UserError(f"--data-version '{option}' is not a data version (64 hex digits "
                            "from a manifest) or 'any'")
        return option
    from xstilts.data.fetch import MANIFEST, read_manifest

    if (study.data.out / MANIFEST).is_file():
        return str(read_manifest(study.data.out)["data_version"])
    return ""


def _print_submission(request: dict, dry_run: bool) -> None:
    if dry_run:
        print(json.dumps(request, indent=2))
        err.print(f"Dry run: nothing was sent. The compiled spec is {request['package']}.")
        return
    what = request.get("run_id") or request.get("recurring_run_id")
    kind = "run" if request["action"] == "run" else "recurring run"
    out.print(f"Submitted {kind} {what} of {request['pipeline']} ({request['stages']} "
              f"stages) to {request['host']}, experiment '{request['experiment']}', data "
              f"version {request['parameters']['data_version'][:12] or 'unpinned'}.")


@app.command("schedule")
def schedule_command(
    config: Annotated[Path, typer.Argument(help="Study config (YAML).")],
    host: Annotated[Optional[str], typer.Option(
        help="Kubeflow Pipelines API endpoint.")] = None,
    cron: Annotated[Optional[str], typer.Option(
        help="Six-field cron, seconds first (Kubeflow's format): '0 0 3 * * *' is 03:00 "
             "daily.")] = None,
    experiment: Annotated[Optional[str], typer.Option(
        help="Kubeflow experiment (default: the study name).")] = None,
    max_concurrency: Annotated[int, typer.Option(
        min=1, help="Runs of this schedule that may run at once.")] = 1,
    catchup: Annotated[bool, typer.Option(
        help="Start the runs missed while the schedule was paused.")] = False,
    data_version: Annotated[Optional[str], typer.Option(
        help="The data version every run must find (default: the local data folder's, "
             "if there is one; 'any' to accept whatever the run finds).")] = None,
    data_rev: DataRev = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print what would be submitted; send nothing.")] = False,
) -> None:
    """Create a recurring run of the study's pipeline on Kubeflow Pipelines."""
    from xstilts.study import load_study

    if not cron:
        raise UserError("--cron is required: six fields, seconds first, e.g. '0 0 3 * * *'")
    _pipelines()
    from pipelines.submit import describe, submit

    study = load_study(config)
    request = describe(study, host, experiment, _data_version(study, data_version, data_rev),
                       cron, max_concurrency, catchup, data_rev=data_rev)
    _print_submission(submit(study, request, dry_run), dry_run)


def _run_local(study: Any, target: Path, data_version: Optional[str],
               data_rev: Optional[str] = None) -> dict:
    _pipelines()
    from pipelines.local import run_local

    with _progress() as progress:
        overall = progress.add_task("pipeline tasks", total=None)
        current = progress.add_task("", total=None, visible=False)

        def on_event(status: str, label: str, seconds: float) -> None:
            if status == "started":
                progress.update(current, description=f"  {label}", visible=True)
                return
            progress.advance(overall)
            progress.update(current, visible=False)
            if status == "finished":
                progress.console.print(f"{label}: {seconds:.1f} s")
            elif status == "failed":
                progress.console.print(f"[red]{label}: failed[/red]")

        return run_local(study, target, on_event, lambda n: progress.update(overall, total=n),
                         data_version, data_rev or "")


def _run_engine(study: Any, target: Path) -> dict:
    from xstilts.runner import run_study

    with _progress() as progress:
        overall = progress.add_task("stages", total=None)
        current = progress.add_task("", total=1.0, visible=False)

        def on_event(status: str, stage: Any, value: float) -> None:
            if status == "planned":
                progress.update(overall, total=value)
            elif status == "started":
                progress.update(current, description=f"  {stage.label}", completed=0,
                                visible=True)
            elif status == "progress":
                progress.update(current, completed=value)
            else:
                progress.advance(overall)
                progress.update(current, visible=False)
                if status == "finished":
                    progress.console.print(f"{stage.label}: {value:.1f} s")

        return run_study(study, target, on_event)


# --------------------------------------------------------------------------- compile

@app.command("compile")
def compile_command(
    config: Annotated[Path, typer.Argument(help="Study config (YAML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Pipeline spec to write.")],
    data_version: Annotated[Optional[str], typer.Option(
        help="The data version the pipeline must find (default: the local data folder's, "
             "if there is one; 'any' to accept whatever a run finds).")] = None,
    data_rev: DataRev = None,
) -> None:
    """Compile the study into a Kubeflow Pipelines spec (GPU pods, one task per stage)."""
    from xstilts.study import load_study

    _pipelines()
    from pipelines.study import compile_study

    study = load_study(config)
    summary = compile_study(study, output, data_version=_data_version(study, data_version,
                                                                      data_rev),
                            data_rev=data_rev or "")
    out.print(f"Wrote {output}: {summary}")


# --------------------------------------------------------------------------- score

@app.command("score")
def score_command(
    benchmark: Annotated[str, typer.Option(help="xtreme or xtreme-r")],
    predictions: Annotated[Path, typer.Option(help="Folder of <task>/test-<lang>.<ext>.")],
    labels: Annotated[Path, typer.Option(help="Folder of gold labels, same layout.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorer's JSON.")] = False,
    output: Annotated[Optional[Path], typer.Option(help="Also write the JSON here.")] = None,
) -> None:
    """Score a leaderboard-layout prediction folder exactly as the official scorer does."""
    from xstilts.atomic import write_text
    from xstilts.evaluation.leaderboard import score_submission

    scores = score_submission(benchmark, predictions, labels)
    text = json.dumps(scores, indent=2)
    if output is not None:
        write_text(output, text + "\n")
    if as_json:
        print(text)
        return
    table = Table("task", "score (avg_metric)", "languages")
    for key, value in scores.items():
        if isinstance(value, dict):
            langs = next((len(v) for v in value.values() if isinstance(v, dict)), 0)
            table.add_row(key, f"{value.get('avg_metric', float('nan')):.2f}", str(langs))
    for key, value in scores.items():
        if not isinstance(value, dict):
            table.add_row(f"[bold]{key}[/bold]", f"[bold]{value:.2f}[/bold]", "")
    out.print(table)


WRITE_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}
"""Storage errors a user fixes by freeing space or fixing the volume, not a bug."""


# --------------------------------------------------------------------------- report

@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="Run folder (xstilts run --out).")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Report folder (default RUN_DIR/report).")] = None,
    labels: Annotated[Optional[list[Path]], typer.Option(
        "--labels", help="Folder of gold labels in the leaderboard layout (repeatable), "
                         "for example-bootstrap intervals; RUN_DIR/labels and an engine "
                         "run's evaluation stages are searched as well.")] = None,
    example_bootstrap: Annotated[bool, typer.Option(
        help="Bootstrap over test examples where predictions and gold labels exist.")
    ] = True,
) -> None:
    """Write the study report of a run: gain tables, statistics, figures, Markdown/HTML."""
    from xstilts.analysis.run_folder import report_run

    with err.status(f"Reporting on {run_dir}"):
        folder, numbers, run = report_run(run_dir, out_dir, labels or [], example_bootstrap)
    note = " [SYNTHETIC DATA]" if run.synthetic else ""
    gains = "; ".join(f"{arch} {numbers[f'mean_gain.{arch}']:+.2f}"
                      for arch in run.config.architectures if f"mean_gain.{arch}" in numbers)
    out.print(f"Report of study '{run.config.name}'{note}: {folder / 'report.md'}, "
              f"{folder / 'report.html'}, figures and CSV tables in {folder}")
    if gains:
        out.print(f"Mean gain over settings and targets: {gains}")


def main() -> None:
    """Entry point: user errors print one line and exit 2, without a traceback."""
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit's code here
    except UserError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        err.print(f"[red]error:[/red] could not write{where}: {exc.strerror}. Free space "
                  "(or raise the quota) and run the same command again: finished work is "
                  "kept, and nothing was left half-written.", highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
