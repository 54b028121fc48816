"""Data versions with DVC: record the data folder (``dvc add``), push it to a remote, pull
it back at any git revision, and say whether the folder matches its ``.dvc`` file.

The data folder is tracked by the DVC repository that contains it (``data/`` beside
``data.dvc`` at the repository root). A folder outside any DVC repository (a test's temp
folder, a cluster volume) is simply not versioned: ``record`` returns None there. DVC is
imported only here, and run with container-safe settings (no analytics, no update check, a
site cache dir inside the repository instead of ``/var/tmp``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from xstilts.atomic import write_text
from xstilts.errors import UserError


def repo_root(data_dir: Path) -> Path | None:
    """The DVC repository that contains ``data_dir`` (the nearest folder above with .dvc/)."""
    for folder in [data_dir.resolve().parent, *data_dir.resolve().parents]:
        if (folder / ".dvc").is_dir():
            return folder
    return None


def dvc_file(data_dir: Path) -> Path:
    return data_dir.resolve().with_name(data_dir.resolve().name + ".dvc")


@contextlib.contextmanager
def _repo(root: Path) -> Iterator[Any]:
    """A DVC Repo with container-safe settings; DVC's console chatter goes to a buffer."""
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    os.environ.setdefault("DVC_SITE_CACHE_DIR", str(root / ".dvc" / "tmp" / "site"))
    from dvc.repo import Repo

    chatter = io.StringIO()
    logger = logging.getLogger("dvc")
    level = logger.level
    logger.setLevel(logging.WARNING)  # "To track the changes with git, run: ..."
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter), \
                Repo(str(root)) as repo:
            yield repo
    finally:
        logger.setLevel(level)


def _require(data_dir: Path) -> Path:
    root = repo_root(data_dir)
    if root is None:
        raise UserError(f"{data_dir} is not inside a DVC repository: run xstilts from the "
                        "repository (which has .dvc/), or 'dvc init' the folder above it")
    return root


def record(data_dir: Path) -> dict | None:
    """Record the folder's current content as a new data version (``dvc add``); None when
    the folder is not inside a DVC repository."""
    root = repo_root(data_dir)
    if root is None:
        return None
    with _repo(root) as repo:
        repo.add(str(data_dir.resolve()))
    return version_record(data_dir, matches=True)  # just recorded


def version_record(data_dir: Path, matches: bool | None = None) -> dict | None:
    """What a result records about its data's version: the ``.dvc`` file's content hash,
    the git revision and whether ``.dvc`` file and data folder match it (None when not
    versioned). ``matches``: the caller already knows (skips a second ``dvc status``)."""
    root = repo_root(data_dir)
    path = dvc_file(data_dir)
    if root is None or not path.is_file():
        return None
    out = yaml.safe_load(path.read_text(encoding="utf-8"))["outs"][0]
    git = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                            str(path)], capture_output=True, text=True, check=False)
    return {"dvc_md5": out["md5"], "dvc_file": str(path.relative_to(root)),
            "git_rev": git.stdout.strip() if git.returncode == 0 else None,
            "dvc_file_committed": git.returncode == 0 and not dirty.stdout.strip(),
            "data_matches": matches if matches is not None
            else status(data_dir)["state"] == "match"}


def status(data_dir: Path) -> dict:
    """Whether ``data_dir`` matches its ``.dvc`` file: state "match", "modified" (with what
    changed), "missing" (not pulled yet) or "untracked" (no ``.dvc`` file)."""
    root = _require(data_dir)
    path = dvc_file(data_dir)
    if not path.is_file():
        return {"state": "untracked", "changed": []}
    if not data_dir.exists():
        return {"state": "missing", "changed": []}
    with _repo(root) as repo:
        report = repo.status(targets=[str(path)])
    changed = sorted({f"{out}: {state}" for entries in report.values() for entry in entries
                      if isinstance(entry, dict)
                      for out, state in entry.get("changed outs", {}).items()})
    return {"state": "modified" if report else "match", "changed": changed}


def push(data_dir: Path, remote: str | None = None) -> int:
    """Upload the recorded version to the remote; returns the number of files sent."""
    root = _require(data_dir)
    if not dvc_file(data_dir).is_file():
        raise UserError(f"{data_dir} has no recorded version yet: run 'xstilts data fetch' "
                        "(which records one) first")
    with _repo(root) as repo:
        try:
            return int(repo.push(targets=[str(dvc_file(data_dir))], remote=remote))
        except Exception as exc:  # noqa: BLE001 - DVC's errors become one message
            raise _remote_error("push to", remote, exc) from None


def pull(data_dir: Path, rev: str | None = None, remote: str | None = None) -> dict:
    """Make ``data_dir`` hold the version recorded at git revision ``rev`` (default: the
    working tree's ``.dvc`` file), fetched from the remote when not cached."""
    root = _require(data_dir)
    path = dvc_file(data_dir)
    if rev is not None:
        shown = subprocess.run(["git", "-C", str(root), "show",
                                f"{rev}:{path.relative_to(root)}"],
                               capture_output=True, text=True, check=False)
        if shown.returncode != 0:
            raise UserError(f"git revision '{rev}' has no {path.name}: "
                            f"{shown.stderr.strip() or 'unknown revision'}")
        write_text(path, shown.stdout)
    if not path.is_file():
        raise UserError(f"{path} does not exist: nothing to pull")
    with _repo(root) as repo:
        try:
            repo.pull(targets=[str(path)], remote=remote, force=True)
        except Exception as exc:  # noqa: BLE001
            raise _remote_error("pull from", remote, exc) from None
    return version_record(data_dir) or {}


def data_version_at(data_dir: Path, rev: str) -> str:
    """The data version (manifest hash) recorded at git revision ``rev``, read through DVC
    from the cache or the remote without touching the data folder."""
    root = _require(data_dir)
    manifest = data_dir.resolve().relative_to(root) / "manifest.json"
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    os.environ.setdefault("DVC_SITE_CACHE_DIR", str(root / ".dvc" / "tmp" / "site"))
    import dvc.api

    try:
        text = dvc.api.read(manifest.as_posix(), repo=str(root), rev=rev)
    except Exception as exc:  # noqa: BLE001 - DVC's errors become one message
        text = " ".join(str(exc).split())[:300]
        raise UserError(f"cannot read the data version recorded at git revision '{rev}': "
                        f"{text}. Check the revision, and that its data was pushed "
                        "('xstilts data push')") from None
    return str(json.loads(text)["data_version"])


def _remote_error(action: str, remote: str | None, exc: Exception) -> UserError:
    name = f"remote '{remote}'" if remote else "the default DVC remote"
    text = " ".join(str(exc).split())[:300]
    return UserError(f"could not {action} {name}: {text}. Check the remote's URL and "
                     "credentials ('dvc remote list'; credentials go in the environment or "
                     "'dvc remote modify --local')")
