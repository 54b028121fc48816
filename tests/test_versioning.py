"""Data versions with real DVC and git: record, push to a local remote, pull into a fresh
clone, pull an older revision, and detect a modified file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from test_cli import assert_user_error, tree_bytes, xstilts
from xstilts.data.fetch import fetch, read_manifest, units_for
from xstilts.data.synthetic import SyntheticSource
from xstilts.data.versioning import (
    data_version_at,
    pull,
    push,
    record,
    status,
    version_record,
)
from xstilts.errors import UserError


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def dvc(cwd: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True,
                   check=True, env={"DVC_NO_ANALYTICS": "1", "PATH": "/usr/bin:/bin"})


def synthetic(out: Path, tasks: list[str]) -> dict:
    with SyntheticSource() as source:
        return fetch(units_for(tasks), source, out, synthetic=True, origin="synthetic")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return dvc_repo(tmp_path)


def dvc_repo(tmp_path: Path) -> Path:
    """A git repository with DVC and a local default remote in ``tmp_path/store``."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.org")
    git(root, "config", "user.name", "t")
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "store", str(tmp_path / "store"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "dvc")
    return root


def test_record_push_clone_pull_and_older_revision(repo: Path, tmp_path: Path) -> None:
    data = repo / "data"
    first = synthetic(data, ["xnli"])
    recorded = record(data)
    assert recorded is not None and recorded["dvc_md5"].endswith(".dir")
    assert (repo / "data.dvc").is_file() and "/data" in (repo / ".gitignore").read_text()
    assert status(data) == {"state": "match", "changed": []}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data v1")
    v1 = git(repo, "rev-parse", "HEAD")
    v1_files = tree_bytes(data)
    assert push(data) > 0
    assert version_record(data)["git_rev"] == v1 and version_record(data)["dvc_file_committed"]

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert status(clone / "data")["state"] == "missing"
    pulled = pull(clone / "data")
    assert pulled["dvc_md5"] == recorded["dvc_md5"]
    assert tree_bytes(clone / "data") == v1_files

    second = synthetic(data, ["pawsx"])  # a new version: more tables
    assert second["data_version"] != first["data_version"]
    record(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data v2")
    assert version_record(data)["dvc_md5"] != recorded["dvc_md5"]
    assert data_version_at(clone / "data", v1) == first["data_version"]  # from the remote
    assert data_version_at(data, "HEAD") == second["data_version"]
    with pytest.raises(UserError, match="git revision 'no-such-tag'"):
        data_version_at(data, "no-such-tag")
    pull(data, rev=v1)
    assert read_manifest(data)["data_version"] == first["data_version"]
    assert tree_bytes(data) == v1_files


def test_status_detects_a_modified_file(repo: Path) -> None:
    data = repo / "data"
    synthetic(data, ["xnli"])
    record(data)
    table = next(data.rglob("*.parquet"))
    table.write_bytes(table.read_bytes() + b"tampered")
    report = status(data)
    assert report["state"] == "modified" and report["changed"]
    result = xstilts("data", "status", "--data", data)
    assert result.returncode == 1 and "differs from" in " ".join(result.stdout.split())


def test_outside_a_dvc_repository(tmp_path: Path) -> None:
    data = tmp_path / "data"
    synthetic(data, ["xnli"])
    assert record(data) is None and version_record(data) is None
    with pytest.raises(UserError, match="not inside a DVC repository"):
        status(data)
    assert_user_error(xstilts("data", "push", "--data", data), "not inside a DVC repository")


def test_unreachable_remote_is_one_clear_error(repo: Path, tmp_path: Path) -> None:
    data = repo / "data"
    synthetic(data, ["xnli"])
    record(data)
    dvc(repo, "remote", "add", "broken", "s3://no-such-bucket-xstilts/none")
    assert_user_error(xstilts("data", "push", "--data", data, "--remote", "nowhere"),
                      "could not push to remote 'nowhere'")
