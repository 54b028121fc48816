"""Every hub converter, through the real ``datasets.load_dataset`` path.

The synthetic source emits each hub dataset in its hub schema. Saved in hub layout in a local
mirror and fetched with ``--source hub --hub-mirror``, it must give exactly the tables the
synthetic fetch gives: the only difference between the two paths is ``load_dataset`` reading
parquet files of a hub repository.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hubmirror import write_repo
from xstilts.data.fetch import fetch, units_for
from xstilts.data.hub import SourceReader
from xstilts.data.synthetic import SyntheticSource
from xstilts.tasks.sources import HubSource


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("roundtrip")
    mirror, raw = root / "mirror", root / "raw"
    units = units_for(None)
    repos: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
    with SyntheticSource() as synthetic:
        for unit in units:
            for source in unit.sources:
                if isinstance(source, HubSource):
                    whole = source.model_copy(update={"select": None})
                    data, _ = synthetic.load(whole)
                    repos[source.dataset][source.config or "default"][source.split] = data
                else:
                    folder, _ = synthetic.load(source)
                    shutil.copytree(folder, raw / source.name, dirs_exist_ok=True)
    commits = {dataset: write_repo(mirror, dataset, configs)
               for dataset, configs in repos.items()}
    return mirror, raw, commits


def test_hub_path_gives_the_synthetic_tables(mirrored, tmp_path: Path) -> None:
    mirror, raw, commits = mirrored
    units = units_for(None)
    with SourceReader(mirror=mirror, raw_dir=raw) as reader:
        hub = fetch(units, reader, tmp_path / "hub", synthetic=False, origin="hub")
    with SyntheticSource() as synthetic:
        syn = fetch(units, synthetic, tmp_path / "syn", synthetic=True, origin="synthetic")
    assert [u["key"] for u in hub["units"]] == [u["key"] for u in syn["units"]]
    assert len(hub["units"]) == len(units)
    for entry in hub["units"]:
        got = pq.read_table(tmp_path / "hub" / entry["path"]).replace_schema_metadata(None)
        want = pq.read_table(tmp_path / "syn" / entry["path"]).replace_schema_metadata(None)
        assert got.equals(want), entry["key"]
        for source in entry["sources"]:
            if source["kind"] == "hub":
                assert source["revision_read"] == commits[source["dataset"]]
    assert not hub["synthetic"] and syn["synthetic"]
