"""Submit the study pipeline to Kubeflow Pipelines: one run, or a recurring run.

This is the only module that talks to a Kubeflow Pipelines API (``kfp.Client``). Each
action is first described as a plain dict (what would be compiled and sent, and where);
``--dry-run`` prints that description, otherwise it is carried out. Credentials never
enter the compiled spec or the parameters: the API token comes from ``KFP_TOKEN`` (or a
service-account token file that ``kfp.Client`` finds through
``KF_PIPELINES_SA_TOKEN_PATH``), and pods read their secrets from Kubernetes Secrets.
"""

# No "from __future__ import annotations": pipelines.study builds KFP functions.

import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, Optional

from pipelines.resources import SERVICE_ACCOUNT
from pipelines.study import compile_study, pipeline_name
from xstilts.errors import UserError
from xstilts.study import StudyConfig

TOKEN_ENV = "KFP_TOKEN"

# robfig/cron (what Kubeflow's scheduled workflows use): seconds, minutes, hours, day of
# month, month, day of week; names (MON, JAN), ranges, steps, lists, ? and L/W/#.
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?,/\-#]+")


def check_cron(cron: str) -> str:
    """The cron expression, if it has the six fields Kubeflow expects; else a UserError
    that shows the six-field form of a five-field crontab line."""
    fields = cron.split()
    if cron.strip().startswith("@"):
        return cron.strip()  # @every 1h, @daily: robfig descriptors
    if len(fields) == 5:
        raise UserError(f"cron '{cron}' has 5 fields, but Kubeflow Pipelines uses 6 with "
                        f"seconds first: did you mean '0 {cron.strip()}'?")
    if len(fields) != 6:
        raise UserError(f"cron '{cron}' has {len(fields)} fields; Kubeflow Pipelines needs 6 "
                        "(seconds minutes hours day-of-month month day-of-week), e.g. "
                        "'0 0 3 * * *' for 03:00 every day")
    bad = [f for f in fields if not _CRON_FIELD.fullmatch(f)]
    if bad:
        raise UserError(f"cron '{cron}': field '{bad[0]}' is not a cron field")
    return " ".join(fields)


def describe(config: StudyConfig, host: Optional[str], experiment: Optional[str],
             data_version: str = "", cron: Optional[str] = None,
             max_concurrency: int = 1, catchup: bool = False,
             data_rev: Optional[str] = None) -> dict:
    """What a submission would do: the request without the compiled spec itself."""
    if not host:
        raise UserError("--host is required for Kubeflow: the Kubeflow Pipelines API "
                        "endpoint, e.g. http://localhost:8080 after 'kubectl port-forward "
                        "-n kubeflow svc/ml-pipeline-ui 8080:80'")
    if not re.match(r"^https?://[^/\s]+", host):
        raise UserError(f"--host '{host}' is not an http(s) URL; e.g. http://localhost:8080")
    request: dict[str, Any] = {
        "action": "schedule" if cron else "run",
        "host": host.rstrip("/"),
        "experiment": experiment or config.name,
        "pipeline": pipeline_name(config),
        "run_name": f"{pipeline_name(config)}-{data_version[:12] or 'data-unpinned'}",
        "parameters": {"data_version": data_version, "data_rev": data_rev or ""},
        "credentials": ("bearer token from $" + TOKEN_ENV) if os.environ.get(TOKEN_ENV)
        else ("service-account token file" if os.environ.get("KF_PIPELINES_SA_TOKEN_PATH")
              else "none"),
    }
    if cron:
        request["trigger"] = {"cron": check_cron(cron), "max_concurrency": max_concurrency,
                              "catchup": catchup}
    return request


def submit(config: StudyConfig, request: dict, dry_run: bool,
           package: Optional[Path] = None) -> dict:
    """Compile the pipeline and send ``request`` (see ``describe``); with ``dry_run`` only
    compile, and return the request with the spec's path and size."""
    folder = Path(tempfile.mkdtemp(prefix="xstilts-submit-"))
    spec = package or folder / f"{request['pipeline']}.yaml"
    compiled = compile_study(config, spec, data_version=request["parameters"]["data_version"],
                             data_rev=request["parameters"]["data_rev"])
    request = {**request, "package": str(spec), "stages": compiled["stages"],
               "package_bytes": spec.stat().st_size}
    if dry_run:
        return request
    client = _client(request["host"])
    try:
        if request["action"] == "run":
            result = client.create_run_from_pipeline_package(
                str(spec), arguments=request["parameters"], run_name=request["run_name"],
                experiment_name=request["experiment"], service_account=SERVICE_ACCOUNT)
            request["run_id"] = result.run_id
        else:
            experiment = _experiment(client, request["experiment"])
            trigger = request["trigger"]
            recurring = client.create_recurring_run(
                experiment_id=experiment, job_name=request["run_name"],
                cron_expression=trigger["cron"], max_concurrency=trigger["max_concurrency"],
                no_catchup=not trigger["catchup"], params=request["parameters"],
                pipeline_package_path=str(spec), service_account=SERVICE_ACCOUNT)
            request["recurring_run_id"] = recurring.recurring_run_id
    except Exception as exc:  # noqa: BLE001 - every client error becomes one clear message
        raise _api_error(request["host"], exc) from None
    return request


def _client(host: str) -> Any:
    import kfp

    token = os.environ.get(TOKEN_ENV) or None
    _preflight(host, token)
    try:
        with warnings.catch_warnings():  # "only works with KFP v2.0.0-beta.2 and later"
            warnings.simplefilter("ignore", FutureWarning)
            return kfp.Client(host=host, existing_token=token)
    except Exception as exc:  # noqa: BLE001
        raise _api_error(host, exc) from None


def _preflight(host: str, token: Optional[str]) -> None:
    """One quick call to the API's health endpoint before ``kfp.Client`` (which retries a
    failing health check for half a minute and then reports only a timeout), so a wrong
    host or missing credentials give their own message at once."""
    import requests

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(f"{host}/apis/v2beta1/healthz", headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise _api_error(host, exc) from None
    if response.status_code in (401, 403):
        raise _api_error(host, response)
    if "html" in response.headers.get("Content-Type", ""):  # a sign-in page, not the API
        raise UserError(f"{host} answered with a web page (a sign-in page?) instead of the "
                        f"Kubeflow Pipelines API: credentials are missing. Set {TOKEN_ENV} "
                        "to a bearer token for the API, or point --host at the API itself")
    if response.status_code != 200:
        raise UserError(f"{host} answered HTTP {response.status_code} on the Kubeflow "
                        "Pipelines health endpoint: is this the Pipelines API?")


def _experiment(client: Any, name: str) -> str:
    """The id of experiment ``name``, created when missing."""
    try:
        return client.get_experiment(experiment_name=name).experiment_id
    except ValueError:  # kfp.Client: "No experiment is found with name ..."
        return client.create_experiment(name=name).experiment_id


def _api_error(host: str, exc: Exception) -> UserError:
    """One message per way a Kubeflow Pipelines API call fails."""
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if status in (401, 403):
        return UserError(
            f"{host} refused the request (HTTP {status}): credentials are missing or not "
            f"accepted. Set {TOKEN_ENV} to a bearer token for the Kubeflow Pipelines API "
            "(e.g. 'export KFP_TOKEN=$(kubectl create token default -n kubeflow)'), or "
            "KF_PIPELINES_SA_TOKEN_PATH to a service-account token file")
    if status is not None:
        reason = getattr(exc, "reason", "") or ""
        body = str(getattr(exc, "body", "") or "")[:300]
        return UserError(f"{host} answered HTTP {status} {reason}: {body}".rstrip(": "))
    text = str(exc)
    if any(s in text for s in ("Max retries", "Connection refused", "Name or service",
                               "timed out", "NewConnectionError", "getaddrinfo",
                               "Failed to resolve")):
        return UserError(f"cannot reach Kubeflow Pipelines at {host}: check the URL and that "
                         "the API is reachable from here (e.g. 'kubectl port-forward -n "
                         "kubeflow svc/ml-pipeline-ui 8080:80', then --host "
                         "http://localhost:8080)")
    return UserError(f"Kubeflow Pipelines at {host}: {type(exc).__name__}: {text[:300]}")
