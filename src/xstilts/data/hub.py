"""Reading sources: Hugging Face datasets (from the hub or a local mirror) and original files.

The hub path is the real one: ``datasets.load_dataset`` on a repository id and a commit.
The revision asked for (a branch, tag, ``refs/convert/parquet`` or a pinned commit) is first
resolved to the commit hash it points at, and that hash is what is loaded and recorded.

A *mirror* is a folder holding hub repositories in their hub layout
(``MIRROR/google/xtreme/README.md`` + parquet files), e.g. a ``git clone`` of each dataset
repository. It is read through the same ``load_dataset`` call; its revision is the git
commit of the clone (or a content hash when it is not a git checkout). Tests and offline
machines use mirrors.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts.errors import UserError
from xstilts.tasks.sources import DownloadSource, HubSource, Source, UserFilesSource


@dataclass
class SourceReader:
    """Loads the sources of a fetch, once each, and remembers the revisions it read."""

    mirror: Path | None = None
    raw_dir: Path = Path("raw")
    pins: dict[str, str] = field(default_factory=dict)
    revisions: dict[str, str] = field(default_factory=dict)  # dataset id -> commit read
    _cache: dict[tuple, Any] = field(default_factory=dict)

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cache.clear()

    def load(self, source: Source) -> tuple[Any, str]:
        """The source's data (a Dataset, or a folder of files) and the revision read."""
        if isinstance(source, HubSource):
            return self._load_hub(source)
        return self._load_files(source)

    # ------------------------------------------------------------------ hub

    def _load_hub(self, source: HubSource) -> tuple[Any, str]:
        revision = self._resolve(source)
        key = (source.dataset, source.config, source.split, revision)
        if key not in self._cache:
            self._cache[key] = self._load_split(source, revision)
        data = self._cache[key]
        if source.select:
            data = select_rows(source, data)
        return data, revision

    def _resolve(self, source: HubSource) -> str:
        """Commit hash of the revision to read (pinned revisions win)."""
        wanted = self.pins.get(source.dataset, source.revision)
        cache_key = f"{source.dataset}@{wanted}"
        if cache_key in self.revisions:
            return self.revisions[cache_key]
        if self.mirror is not None:
            commit = _mirror_revision(self._mirror_path(source))
            pinned = self.pins.get(source.dataset)
            if pinned and pinned != commit:
                raise UserError(f"{source.dataset} is pinned to revision {pinned}, but the "
                                f"mirror {self._mirror_path(source)} is at {commit}; check out "
                                "the pinned commit or change the pin")
        else:
            commit = _hub_commit(source.dataset, wanted)
        self.revisions[cache_key] = commit
        return commit

    def _mirror_path(self, source: HubSource) -> Path:
        assert self.mirror is not None
        path = self.mirror / source.dataset
        if not path.is_dir():
            raise UserError(f"the hub mirror {self.mirror} has no folder {source.dataset}; "
                            f"clone https://huggingface.co/datasets/{source.dataset} there")
        return path

    def _load_split(self, source: HubSource, revision: str) -> Any:
        import datasets  # imported lazily: it is slow to import and not needed for files

        datasets.disable_progress_bars()
        if self.mirror is not None:
            # datasets keys its cache of local folders on file names and mtimes, which can
            # collide across mirrors; a cache folder per (mirror path, commit) cannot.
            path = str(self._mirror_path(source).resolve())
            key = hashlib.sha256(f"{path}\0{revision}".encode()).hexdigest()[:20]
            kwargs = {"cache_dir": str(Path(datasets.config.HF_DATASETS_CACHE) / "xstilts-mirrors"
                                       / key)}
        else:
            path, kwargs = source.dataset, {"revision": revision}
        try:
            return datasets.load_dataset(path, source.config, split=source.split, **kwargs)
        except (ValueError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as exc:
            raise UserError(f"cannot load {source.label()} at revision {revision}: "
                            f"{_first_line(exc)}") from None
        except OSError as exc:  # network failures surface as ConnectionError / OSError
            raise UserError(f"cannot reach the Hugging Face Hub for {source.label()} "
                            f"({_first_line(exc)}); check the network or use --hub-mirror"
                            ) from None

    # ------------------------------------------------------------------ files

    def _load_files(self, source: DownloadSource | UserFilesSource) -> tuple[Path, str]:
        folder = self.raw_dir / source.name
        missing = [f for f in source.files if not (folder / f).is_file()]
        if missing and isinstance(source, DownloadSource) and source.urls:
            _download(source, folder)
            missing = [f for f in source.files if not (folder / f).is_file()]
        if missing:
            raise UserError(f"missing {', '.join(str(folder / f) for f in missing)}. "
                            f"{source.instructions}")
        return folder, _files_hash([folder / f for f in source.files])


def select_rows(source: HubSource, data: Any) -> Any:
    """Rows of a split picked by the source's ``select`` (language column or id prefix)."""
    assert source.select is not None
    for key, value in source.select.items():
        column = "id" if key == "id_prefix" else key
        if column not in data.column_names:
            raise UserError(f"{source.label()} has no field '{column}' to select rows by "
                            f"(it has: {', '.join(data.column_names)})")
        values = data[column]
        keep = ([i for i, v in enumerate(values) if str(v).startswith(value)]
                if key == "id_prefix" else [i for i, v in enumerate(values) if v == value])
        data = data.select(keep)
    return data


def _hub_commit(dataset: str, revision: str) -> str:
    """Resolve a hub revision (branch, tag, ref or commit) to its commit hash."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:
        info = HfApi().dataset_info(dataset, revision=revision)
    except OfflineModeIsEnabled:
        raise UserError(f"cannot resolve {dataset}@{revision}: HF_HUB_OFFLINE is set; unset "
                        "it, or read a local copy with --hub-mirror DIR") from None
    except HfHubHTTPError as exc:
        raise UserError(f"cannot resolve {dataset}@{revision} on the Hugging Face Hub: "
                        f"{_first_line(exc)}") from None
    except OSError as exc:
        raise UserError(f"cannot reach the Hugging Face Hub to resolve {dataset}@{revision} "
                        f"({_first_line(exc)}); check the network or use --hub-mirror DIR"
                        ) from None
    if not info.sha:
        raise UserError(f"the Hugging Face Hub returned no commit for {dataset}@{revision}")
    return info.sha


def _mirror_revision(path: Path) -> str:
    """Git commit of a mirrored repository, or a content hash of its files."""
    try:
        result = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=False)
    except FileNotFoundError:
        result = None
    if result is not None and result.returncode == 0:
        top = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=False).stdout.strip()
        if top and Path(top).resolve() == path.resolve():
            return result.stdout.strip()
    files = sorted(p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
    return "sha256:" + _files_hash(files, root=path)


def _files_hash(paths: list[Path], root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in paths:
        name = str(path.relative_to(root)) if root else path.name
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _download(source: DownloadSource, folder: Path) -> None:
    """Fetch a source's URLs into its raw folder (unpacking tar archives)."""
    folder.mkdir(parents=True, exist_ok=True)
    for url in source.urls:
        name = url.rsplit("/", 1)[-1]
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            target = Path(tmp) / name
            try:
                with urllib.request.urlopen(url, timeout=60) as response, \
                        open(target, "wb") as out:
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, OSError) as exc:
                raise UserError(f"cannot download {url} ({_first_line(exc)}). "
                                f"{source.instructions}") from None
            if ".tar" in name:
                _unpack(target, folder, source.name)
            else:
                os.replace(target, folder / name)


def _unpack(archive_path: Path, folder: Path, name: str) -> None:
    """Unpack a tar archive into ``folder``, dropping a top-level folder called ``name``
    (the BUCC archives unpack to bucc2018/<l>-en/...)."""
    unpacked = archive_path.parent / "unpacked"
    with tarfile.open(archive_path) as archive:
        archive.extractall(unpacked, filter="data")
    children = list(unpacked.iterdir())
    root = children[0] if len(children) == 1 and children[0].name == name else unpacked
    for child in root.iterdir():
        destination = folder / child.name
        if destination.is_dir():
            shutil.rmtree(destination)
        os.replace(child, destination)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
