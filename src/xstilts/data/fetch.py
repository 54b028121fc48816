"""``xstilts data fetch``: build the canonical tables of the chosen tasks and their manifest.

Output layout::

    OUT/<corpus>/<language>/<split>.parquet
    OUT/manifest.json

Every table of a run is first written to a staging folder inside OUT; only when all of them
converted cleanly are they moved into place and the manifest rewritten, so a failure leaves
OUT as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import xstilts
from xstilts.atomic import write_text
from xstilts.data.converters import convert
from xstilts.errors import UserError
from xstilts.tasks.catalogue import UNITS, corpora_for, resolve_tasks
from xstilts.tasks.sources import Source, Unit

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


class Loader(Protocol):
    """Anything that turns a source into rows: the hub/file reader, or the synthetic one."""

    def load(self, source: Source) -> tuple[Any, str]: ...


def units_for(task_names: Iterable[str] | None) -> list[Unit]:
    """Canonical units needed by the named tasks (all tasks when None), in catalogue order."""
    corpora: list[str] = []
    for task in resolve_tasks(task_names):
        corpora.extend(corpora_for(task))
    return [unit for corpus in dict.fromkeys(corpora) for unit in UNITS[corpus]]


def fetch(units: list[Unit], loader: Loader, out: Path, *, synthetic: bool,
          origin: str, on_unit: Callable[[Unit], None] | None = None) -> dict:
    """Convert ``units`` with ``loader`` into ``out``; return the updated manifest."""
    out = Path(out)
    previous = read_manifest(out) if (out / MANIFEST).exists() else None
    if previous is not None and previous["synthetic"] != synthetic:
        kind = "synthetic" if previous["synthetic"] else "real"
        raise UserError(f"{out} already holds {kind} data; fetch into another folder or "
                        "remove it first (real and synthetic data never share a folder)")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        entries = []
        for unit in units:
            entries.append(_build_unit(unit, loader, staging, synthetic))
            if on_unit is not None:
                on_unit(unit)
        for entry in entries:
            target = out / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / entry["path"], target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    merged = {e["key"]: e for e in (previous or {}).get("units", [])}
    merged.update({e["key"]: e for e in entries})
    manifest = {
        "format": MANIFEST_FORMAT,
        "synthetic": synthetic,
        "origin": origin,
        "xstilts_version": xstilts.__version__,
        "data_version": _data_version(merged.values()),
        "units": [merged[k] for k in sorted(merged)],
    }
    write_text(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def _build_unit(unit: Unit, loader: Loader, staging: Path, synthetic: bool) -> dict:
    inputs, read = [], []
    for source in unit.sources:
        data, revision = loader.load(source)
        inputs.append((source, data))
        read.append({**source.model_dump(exclude_none=True), "revision_read": revision})
    table = convert(unit, inputs)
    if table.num_rows == 0:
        raise UserError(f"{unit.key}: the sources gave no rows "
                        f"({', '.join(s.label() for s in unit.sources)})")
    path = f"{unit.corpus}/{unit.language}/{unit.split}.parquet"
    metadata = {"xstilts.unit": unit.key, "xstilts.synthetic": str(synthetic).lower()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    target = staging / path
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target, compression="zstd")
    return {
        "key": unit.key,
        "corpus": unit.corpus,
        "language": unit.language,
        "split": unit.split,
        "path": path,
        "rows": table.num_rows,
        "columns": table.column_names,
        "sha256": _sha256(target),
        "reader": unit.reader,
        "sources": read,
    }


def read_manifest(folder: Path) -> dict:
    """The manifest of a data folder, or a clear error."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; run 'xstilts data fetch --out {folder}' "
                        "first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc}); fetch the data again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise UserError(f"{path} is not an xstilts manifest of format {MANIFEST_FORMAT}")
    return manifest


def read_table(folder: Path, corpus: str, language: str, split: str,
               manifest: dict | None = None) -> pa.Table:
    """Read one canonical table, checking it against the manifest's hash (pass the manifest
    when reading many tables, to parse it once)."""
    manifest = manifest or read_manifest(folder)
    key = f"{corpus}/{language}/{split}"
    entry = next((u for u in manifest["units"] if u["key"] == key), None)
    if entry is None:
        raise UserError(f"{folder} has no table {key}; fetch the task that needs it")
    path = Path(folder) / entry["path"]
    if not path.is_file() or _sha256(path) != entry["sha256"]:
        raise UserError(f"{path} is missing or does not match its manifest hash (corrupted or "
                        "edited); fetch the data again")
    return pq.read_table(path)


class DataFolder:
    """A canonical data folder; the manifest is parsed once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.manifest = read_manifest(self.path)

    def table(self, corpus: str, language: str, split: str) -> pa.Table:
        return read_table(self.path, corpus, language, split, self.manifest)

    def rows(self, corpus: str, language: str, split: str, limit: int | None = None,
             seed: int = 0) -> dict[str, list]:
        """Columns of a table as lists; with ``limit``, a seeded random subset in table
        order (so a cap never takes just the first member of a concatenated corpus)."""
        table = self.table(corpus, language, split)
        if limit is not None and limit < table.num_rows:
            keep = np.sort(np.random.default_rng(seed).permutation(table.num_rows)[:limit])
            table = table.take(pa.array(keep))
        return table.to_pydict()

    def fingerprint(self, corpus: str, language: str, split: str) -> str:
        """The table's content hash from the manifest."""
        key = f"{corpus}/{language}/{split}"
        return next(u["sha256"] for u in self.manifest["units"] if u["key"] == key)

    def has(self, corpus: str, language: str, split: str) -> bool:
        return any(u["key"] == f"{corpus}/{language}/{split}" for u in self.manifest["units"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_version(entries: Iterable[dict]) -> str:
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e["key"]):
        digest.update(f"{entry['key']}\0{entry['sha256']}\n".encode())
    return digest.hexdigest()
