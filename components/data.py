"""The data stages that run before any training: prepare the data folder, validate it with
the catalogue's Great Expectations suites, and the gate that stops the run when validation
failed (and otherwise prepares the models)."""


from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Markdown, Output

from components import IMAGE


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def prepare_data(config_json: str, data_root: str, data_version: str, data_rev: str,
                 data: Output[Dataset]) -> str:
    """Materialise the study's data folder (under ``data_root`` when the config's path is
    relative) and check its version.

    With ``data_rev`` (a git revision of the project repository), the folder is made to hold
    exactly the data version that revision's ``data.dvc`` records, pulled from the DVC
    cache or remote. Synthetic data is generated when missing, as ``xstilts run`` does.
    When ``data_version`` is set (the version the pipeline was compiled for, which its
    stages' cache keys contain), a folder holding any other version stops the run here.
    The Dataset holds a copy of the manifest; its metadata names the data folder (on the
    shared volume) and the data version, which every later stage reads.
    """
    import shutil
    from pathlib import Path

    from xstilts.data.fetch import MANIFEST
    from xstilts.runner import prepare_data as prepare, record_data_version, with_data_root
    from xstilts.study import StudyConfig

    config = with_data_root(StudyConfig.model_validate_json(config_json), data_root)
    data_dir = config.data.out
    pulled = {}
    if data_rev:
        from xstilts.data.versioning import pull

        pulled = pull(data_dir, data_rev)
    manifest = prepare(config)
    if data_version and manifest["data_version"] != data_version:
        raise SystemExit(f"{data_dir} holds data version {manifest['data_version']}, but this "
                         f"pipeline was compiled for {data_version}: restore that version "
                         "(xstilts data pull) or recompile the pipeline against the current "
                         "data")
    dvc = record_data_version(config) or {}
    Path(data.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_dir / MANIFEST, data.path)
    data.metadata.update({
        "data_dir": str(data_dir),
        "data_version": manifest["data_version"],
        "synthetic": bool(manifest["synthetic"]),
        "dvc": dvc,
        "data_rev": data_rev,
        "pulled_md5": pulled.get("dvc_md5", ""),
    })
    return str(manifest["data_version"])


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def validate_data(config_json: str, data: Input[Dataset], data_docs: Output[Artifact],
                  summary: Output[Markdown], metrics_dir: str = "") -> str:
    """Run the Great Expectations suites of the study's tasks on the prepared data.

    Publishes the Data Docs site (zipped: the UI shows one file per artifact) and a
    Markdown summary. It does not fail on bad data, so that both are published; it returns
    the verdict (JSON) that the data gate acts on.
    """
    import json
    import shutil
    import tempfile
    from pathlib import Path

    from xstilts.monitoring.metrics import Identity, StageMetrics
    from xstilts.study import StudyConfig
    from xstilts.validation.validate import SUMMARY, failure_message, validate

    config = StudyConfig.model_validate_json(config_json)
    identity = Identity(study=config.name, stage="data")
    stage = StageMetrics(identity, Path(metrics_dir) / f"{identity.file_stem()}.prom"
                         if metrics_dir else None)
    with tempfile.TemporaryDirectory() as tmp:
        outcome = validate(Path(data.metadata["data_dir"]), config.data_tasks(),
                           Path(tmp) / "report")
        stage.finish(outcome.success)  # failed expectations: a failed data stage
        for artifact in (data_docs, summary):
            Path(artifact.path).parent.mkdir(parents=True, exist_ok=True)
        docs = Path(tmp) / "report" / "data_docs"
        archive = shutil.make_archive(str(Path(tmp) / "data_docs"), "zip", docs)
        shutil.copyfile(archive, data_docs.path)
        shutil.copyfile(Path(tmp) / "report" / SUMMARY, summary.path)
    data_docs.metadata.update({"format": "zip", "index": "index.html",
                               "data_version": data.metadata["data_version"]})
    summary.metadata.update({"passed": outcome.success, "failures": len(outcome.failures),
                             "expectations": outcome.checks})
    print(f"validated {len(outcome.groups)} table groups with {outcome.checks} expectations: "
          f"{'passed' if outcome.success else f'{len(outcome.failures)} failed'}")
    return json.dumps({"passed": outcome.success,
                       "message": "" if outcome.success else failure_message(outcome)})


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def data_gate(config_json: str, verdict: str, data: Input[Dataset],
              ready: Output[Dataset]) -> None:
    """Stop the run when data validation failed, before any training; otherwise prepare
    the models (tiny offline models are built when missing) and hand the data on."""
    import json
    import shutil
    from pathlib import Path

    from xstilts.runner import prepare_models
    from xstilts.study import StudyConfig

    result = json.loads(verdict)
    if not result["passed"]:
        raise SystemExit(result["message"])
    data_dir = Path(data.metadata["data_dir"])
    config = StudyConfig.model_validate_json(config_json)
    config = config.model_copy(update={"data": config.data.model_copy(update={"out": data_dir})})
    archs = prepare_models(config)
    Path(ready.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data.path, ready.path)
    ready.metadata.update({**data.metadata,
                           "architectures": json.dumps({n: a.size for n, a in archs.items()})})
