"""Submitting the study to Kubeflow Pipelines: --dry-run, the requests the real kfp.Client
sends (to a recording API on loopback), cron checks, and the errors a user sees."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kfp_api import KfpApi  # noqa: E402
from pipelines.submit import check_cron, describe, submit  # noqa: E402
from test_cli import assert_user_error, xstilts  # noqa: E402
from xstilts.errors import UserError  # noqa: E402
from xstilts.study import StudyConfig  # noqa: E402

SECRET = "hf_secret-value-7d1e"
TOKEN = "kfp-bearer-token-19af"
VERSION = "ab" * 32
STUDY = {"name": "mini", "architectures": ["tiny-mbert"], "intermediate": ["none", "mnli"],
         "targets": ["xnli"], "recipe": "smoke", "budget": {"max_steps": 2}}


@pytest.fixture()
def config(tmp_path: Path) -> StudyConfig:
    return StudyConfig.model_validate({**STUDY, "data": {"out": str(tmp_path / "data")}})


@pytest.fixture()
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump({**STUDY, "data": {"out": str(tmp_path / "data")}}))
    return path


def test_five_field_cron_is_refused_with_the_six_field_form() -> None:
    with pytest.raises(UserError, match=r"5 fields.*did you mean '0 0 3 \* \* 1'"):
        check_cron("0 3 * * 1")
    with pytest.raises(UserError, match="7 fields"):
        check_cron("0 0 3 * * 1 2026")
    with pytest.raises(UserError, match="'3;' is not a cron field"):
        check_cron("0 0 3; * * *")
    assert check_cron("0  0 3 * * MON-FRI") == "0 0 3 * * MON-FRI"
    assert check_cron("@every 6h") == "@every 6h"


def test_host_must_be_given_and_be_a_url(config: StudyConfig) -> None:
    with pytest.raises(UserError, match="--host is required"):
        describe(config, None, None)
    with pytest.raises(UserError, match="not an http"):
        describe(config, "kfp.example.com", None)


def test_dry_run_compiles_and_sends_nothing(config: StudyConfig, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with KfpApi() as api:
        request = describe(config, api.url, "nightly", VERSION, "0 0 3 * * *")
        result = submit(config, request, dry_run=True)
        assert api.requests == []
    assert result["action"] == "schedule" and result["experiment"] == "nightly"
    assert result["trigger"] == {"cron": "0 0 3 * * *", "max_concurrency": 1,
                                 "catchup": False}
    assert result["parameters"] == {"data_version": VERSION, "data_rev": ""}
    spec = Path(result["package"]).read_text(encoding="utf-8")
    ir = next(yaml.safe_load_all(spec))
    assert ir["pipelineInfo"]["name"] == "xstilts-mini"
    assert ir["root"]["inputDefinitions"]["parameters"]["data_version"]["defaultValue"] == \
        VERSION
    assert SECRET not in spec and SECRET not in json.dumps(result)


def test_run_sends_the_described_request(config: StudyConfig, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    monkeypatch.setenv("KFP_TOKEN", TOKEN)
    with KfpApi() as api:
        request = describe(config, api.url, None, VERSION)
        result = submit(config, request, dry_run=False)
    assert result["run_id"] == "run-1"
    (experiment,) = api.posted("/apis/v2beta1/experiments")
    assert experiment["body"]["display_name"] == "mini"  # default: the study name
    (run,) = api.posted("/apis/v2beta1/runs")
    body = run["body"]
    assert body["display_name"] == request["run_name"] == f"xstilts-mini-{VERSION[:12]}"
    assert body["experiment_id"] == "exp-1"
    assert body["runtime_config"]["parameters"] == {"data_version": VERSION, "data_rev": ""}
    assert body["service_account"] == "xstilts-pipeline-runner"  # k8s/base/rbac.yaml
    spec = body["pipeline_spec"]["pipeline_spec"]
    assert spec["pipelineInfo"]["name"] == "xstilts-mini"
    assert {"exit-handler-1", "record-outcome"} <= set(spec["root"]["dag"]["tasks"])
    executors = body["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"][
        "deploymentSpec"]["executors"]
    assert any(s["secretName"] == "xstilts-hf-token" for e in executors.values()
               for s in e.get("secretAsEnv", []))
    assert {k.lower(): v for k, v in run["headers"].items()}["authorization"] == f"Bearer {TOKEN}"
    assert SECRET not in json.dumps(api.requests)
    assert TOKEN not in json.dumps([r["body"] for r in api.requests])


def test_schedule_sends_cron_no_catchup_and_concurrency_one(config: StudyConfig) -> None:
    with KfpApi() as api:
        api.experiments["nightly"] = "exp-9"
        request = describe(config, api.url, "nightly", "", "0 0 3 * * *")
        result = submit(config, request, dry_run=False)
    assert result["recurring_run_id"] == "rec-1"
    assert api.posted("/apis/v2beta1/experiments") == []  # it existed
    (recurring,) = api.posted("/apis/v2beta1/recurringruns")
    body = recurring["body"]
    assert body["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"
    assert int(body["max_concurrency"]) == 1
    assert body["no_catchup"] is True
    assert body["experiment_id"] == "exp-9"
    assert body["runtime_config"]["parameters"] == {"data_version": "", "data_rev": ""}
    assert body["service_account"] == "xstilts-pipeline-runner"
    assert body["pipeline_spec"]["pipeline_spec"]["pipelineInfo"]["name"] == "xstilts-mini"


def test_refused_credentials_name_the_token_variable(config: StudyConfig) -> None:
    with KfpApi(status=401) as api:
        request = describe(config, api.url, None, VERSION)
        with pytest.raises(UserError, match="credentials are missing.*KFP_TOKEN"):
            submit(config, request, dry_run=False)


def test_cli_dry_run_and_errors(study_file: Path) -> None:
    result = xstilts("run", study_file, "--backend", "kubeflow", "--host",
                     "http://127.0.0.1:9", "--dry-run", "--data-version", "any")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["action"] == "run" and printed["parameters"] == {"data_version": "", "data_rev": ""}
    assert "nothing was sent" in result.stderr
    assert_user_error(xstilts("schedule", study_file, "--host", "http://127.0.0.1:9",
                              "--cron", "0 3 * * *"), "5 fields", "'0 0 3 * * *'")
    assert_user_error(xstilts("run", study_file, "--backend", "kubeflow", "--host",
                              "http://127.0.0.1:9"), "cannot reach Kubeflow Pipelines at "
                                                     "http://127.0.0.1:9")
    assert_user_error(xstilts("run", study_file, "--backend", "cloud"),
                      "unknown backend 'cloud'")


def test_cli_compile_pins_the_local_data_version(tmp_path: Path) -> None:
    from kfp import components

    from xstilts.data.fetch import fetch, units_for
    from xstilts.data.synthetic import SyntheticSource

    data = tmp_path / "data"
    with SyntheticSource() as source:
        manifest = fetch(units_for(["xnli"]), source, data, synthetic=True, origin="synthetic")
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump({**STUDY, "data": {"out": str(data)}}))
    result = xstilts("compile", path, "-o", tmp_path / "spec.yaml")
    assert result.returncode == 0, result.stderr
    spec = components.load_component_from_file(str(tmp_path / "spec.yaml"))
    assert spec.component_spec.inputs["data_version"].default == manifest["data_version"]
    assert_user_error(xstilts("compile", path, "-o", tmp_path / "other.yaml",
                              "--data-version", "abc"), "not a data version")
    assert not (tmp_path / "other.yaml").exists()
