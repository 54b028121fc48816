"""The validation gate: the data folder exists, has a valid manifest, and every model resolves."""


from kfp import dsl
from kfp.dsl import Dataset, Output

from components import IMAGE


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def validate_data(config_json: str, data_root: str, data_version: str,
                  data: Output[Dataset]) -> str:
    """Check the study's data folder (under ``data_root`` when the config's path is relative).

    Synthetic data is generated and tiny models are built when missing, as ``xstilts run``
    does. When ``data_version`` is set (the version the pipeline was compiled for, which
    its stages' cache keys contain), a folder holding any other version stops the run here,
    before any training. The Dataset artifact holds a copy of the manifest; its metadata
    names the data folder (on the shared volume) and the data version, which every later
    stage reads. Returns the data version.
    """
    import json
    import shutil
    from pathlib import Path

    from xstilts.data.fetch import MANIFEST
    from xstilts.runner import prepare_data, prepare_models, record_data_version
    from xstilts.study import StudyConfig

    config = StudyConfig.model_validate_json(config_json)
    data_dir = config.data.out if config.data.out.is_absolute() else \
        Path(data_root) / config.data.out
    config = config.model_copy(update={"data": config.data.model_copy(update={"out": data_dir})})
    manifest = prepare_data(config)
    if data_version and manifest["data_version"] != data_version:
        raise SystemExit(f"{data_dir} holds data version {manifest['data_version']}, but this "
                         f"pipeline was compiled for {data_version}: restore that version "
                         "or recompile the pipeline against the current data")
    archs = prepare_models(config)
    dvc = record_data_version(config)
    Path(data.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_dir / MANIFEST, data.path)
    data.metadata.update({
        "data_dir": str(data_dir),
        "data_version": manifest["data_version"],
        "synthetic": bool(manifest["synthetic"]),
        "architectures": json.dumps({n: a.size for n, a in archs.items()}),
        "dvc": dvc or {},
    })
    return str(manifest["data_version"])
