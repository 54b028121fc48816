"""Converters read hub-format data through the real ``datasets`` loading path (offline,
from a local hub mirror), handle each source's known traps, and fail clearly otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, Features, Sequence, Value

from hubmirror import write_repo
from xstilts.data.fetch import fetch, read_table, units_for
from xstilts.data.hub import SourceReader
from xstilts.errors import UserError
from xstilts.tasks.catalogue import UNITS

NLI = ClassLabel(names=["entailment", "neutral", "contradiction"])


def ds(rows: dict, features: dict) -> datasets.Dataset:
    return datasets.Dataset.from_dict(rows, features=Features(features))


def nli_rows(n: int, labels: list[int], id_field: str = "idx") -> datasets.Dataset:
    rows = {"premise": [f"premise {i}" for i in range(n)],
            "hypothesis": [f"hypothesis {i}" for i in range(n)], "label": labels}
    features = {"premise": Value("string"), "hypothesis": Value("string"), "label": NLI}
    if id_field == "idx":
        rows["idx"], features["idx"] = list(range(n)), Value("int32")
    else:
        rows["uid"], features["uid"] = [f"u{i}" for i in range(n)], Value("string")
    return ds(rows, features)


def squad_rows(ids: list[str], title: bool = True) -> datasets.Dataset:
    context = "Ada lives in Paris. She works at Acme."
    rows = {"id": ids, "context": [context] * len(ids),
            "question": ["Where does Ada live?"] * len(ids),
            "answers": [{"text": ["Paris"], "answer_start": [13]}] * len(ids)}
    features = {"id": Value("string"), "context": Value("string"),
                "question": Value("string"),
                "answers": Sequence({"text": Value("string"), "answer_start": Value("int32")})}
    if title:
        rows["title"], features["title"] = ["t"] * len(ids), Value("string")
    return ds(rows, features)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("mirror")
    commits = {}
    mnli_train = nli_rows(4, [0, 1, 2, 0])
    commits["nyu-mll/glue"] = write_repo(root, "nyu-mll/glue", {
        "mnli": {"train": mnli_train, "validation_matched": nli_rows(3, [2, 1, 0])}})
    commits["stanfordnlp/snli"] = write_repo(root, "stanfordnlp/snli", {
        "plain_text": {"train": nli_rows(5, [0, -1, 1, -1, 2], id_field=""),
                       "validation": nli_rows(2, [0, -1], id_field="")}})
    commits["facebook/anli"] = write_repo(root, "facebook/anli", {"plain_text": {
        **{f"train_r{r}": nli_rows(2, [0, 2], "uid") for r in (1, 2, 3)},
        **{f"dev_r{r}": nli_rows(1, [1], "uid") for r in (1, 2, 3)}}})
    xnli = ds({"language": ["de", "en", "de"], "sentence1": ["a", "b", "c"],
               "sentence2": ["d", "e", "f"],
               "gold_label": ["entailment", "neutral", "contradiction"]},
              {"language": Value("string"), "sentence1": Value("string"),
               "sentence2": Value("string"), "gold_label": Value("string")})
    pawsx = ds({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": ["1", "0"]},
               {"sentence1": Value("string"), "sentence2": Value("string"),
                "label": Value("string")})
    upos = ClassLabel(names=["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
                             "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"])
    udpos = ds({"tokens": [["Der", "Hund"]], "pos_tags": [[5, 7]]},
               {"tokens": Sequence(Value("string")), "pos_tags": Sequence(upos)})
    tydiqa_ids = ["english-1-0", "arabic-2-0", "english-3-1", "swahili-4-0"]
    tatoeba = ds({"source_sentence": ["Hallo Welt\n", "Guten Tag\n"],
                  "target_sentence": ["Hello world\n", "Good day\n"],
                  "source_lang": ["x", "x"], "target_lang": ["eng", "eng"]},
                 {k: Value("string") for k in ("source_sentence", "target_sentence",
                                               "source_lang", "target_lang")})
    commits["google/xtreme"] = write_repo(root, "google/xtreme", {
        "XNLI": {"validation": xnli, "test": xnli},
        "PAWS-X.de": {"validation": pawsx, "test": pawsx},
        "udpos.German": {"validation": udpos, "test": udpos},
        "tydiqa": {"train": squad_rows(tydiqa_ids), "validation": squad_rows(tydiqa_ids)},
        "tatoeba.deu": {"validation": tatoeba},
    })
    return root, commits


def fetch_from(mirror: Path, out: Path, tasks: list[str], **kwargs) -> dict:
    keep = kwargs.pop("keep", None)
    units = [u for u in units_for(tasks) if keep is None or keep(u)]
    with SourceReader(mirror=mirror, raw_dir=out / "raw", **kwargs) as reader:
        return fetch(units, reader, out, synthetic=False, origin="hub")


def test_anli_plus_drops_unlabelled_snli_rows_and_records_members(mirror, tmp_path) -> None:
    root, commits = mirror
    manifest = fetch_from(root, tmp_path, ["anli_plus"])
    train = read_table(tmp_path, "anli_plus", "en", "train").to_pydict()
    # 3 ANLI rounds x 2 + 4 MNLI + 3 labelled SNLI (2 of 5 rows are -1)
    assert len(train["id"]) == 6 + 4 + 3
    assert set(train["label"]) <= {"entailment", "neutral", "contradiction"}
    members = set(train["member"])
    assert "stanfordnlp/snli:plain_text[train]" in members and len(members) == 5
    assert train["label"][6:10] == ["entailment", "neutral", "contradiction", "entailment"]
    unit = next(u for u in manifest["units"] if u["key"] == "anli_plus/en/train")
    revisions = {s["dataset"]: s["revision_read"] for s in unit["sources"]}
    assert revisions == {d: commits[d] for d in revisions}  # the git commit actually read
    assert not manifest["synthetic"]


def test_xtreme_traps(mirror, tmp_path) -> None:
    root, _ = mirror
    keep = (lambda u: u.language in ("de", "en", "ar", "sw")
            and u.corpus in ("xnli", "pawsx", "udpos", "tydiqa", "tatoeba"))
    fetch_from(root, tmp_path, ["xnli", "pawsx", "udpos", "tydiqa", "tatoeba"],
               keep=lambda u: keep(u) and (u.corpus, u.language, u.split) in {
                   ("xnli", "de", "test"), ("pawsx", "de", "test"), ("udpos", "de", "test"),
                   ("tydiqa", "en", "train"), ("tydiqa", "ar", "test"),
                   ("tydiqa", "sw", "test"), ("tatoeba", "de", "test")})
    xnli = read_table(tmp_path, "xnli", "de", "test").to_pydict()
    assert xnli["text_a"] == ["a", "c"]  # rows of the other languages are not taken
    assert xnli["label"] == ["entailment", "contradiction"]
    assert read_table(tmp_path, "pawsx", "de", "test").to_pydict()["label"] == ["1", "0"]
    udpos = read_table(tmp_path, "udpos", "de", "test").to_pydict()
    assert udpos["tags"] == [["DET", "NOUN"]]  # class ids named by language-name config
    assert read_table(tmp_path, "tydiqa", "en", "train").to_pydict()["id"] == \
        ["english-1-0", "english-3-1"]
    assert read_table(tmp_path, "tydiqa", "sw", "test").to_pydict()["id"] == ["swahili-4-0"]
    tatoeba = read_table(tmp_path, "tatoeba", "de", "test").to_pydict()
    assert tatoeba["text"] == ["Hallo Welt", "Guten Tag", "Hello world", "Good day"]
    assert tatoeba["gold_id"][:2] == tatoeba["id"][2:]


def test_missing_fields_are_named(tmp_path) -> None:
    root = tmp_path / "mirror"
    wrong = ds({"text": ["a"], "tags": [["X"]]},
               {"text": Sequence(Value("string")), "tags": Sequence(Value("string"))})
    write_repo(root, "google/xtreme", {"PAN-X.de": {"validation": wrong, "test": wrong}})
    with pytest.raises(UserError) as info:
        fetch_from(root, tmp_path / "out", ["panx"],
                   keep=lambda u: u.language == "de" and u.split == "test")
    message = str(info.value)
    assert "google/xtreme:PAN-X.de[test]" in message
    assert "no field(s) tokens, ner_tags" in message
    assert "expects fields: tokens, ner_tags" in message
    assert not (tmp_path / "out" / "panx").exists()  # nothing half-written
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_labels_outside_the_label_set_are_refused(tmp_path) -> None:
    root = tmp_path / "mirror"
    bad = ds({"sentence1": ["a"], "sentence2": ["b"], "label": ["2"]},
             {"sentence1": Value("string"), "sentence2": Value("string"),
              "label": Value("string")})
    write_repo(root, "google/xtreme", {"PAWS-X.de": {"test": bad}})
    with pytest.raises(UserError, match=r"label '2' is outside the label set of pawsx"):
        fetch_from(root, tmp_path / "out", ["pawsx"],
                   keep=lambda u: u.language == "de" and u.split == "test")


def test_pins_are_checked_against_the_mirror(mirror, tmp_path) -> None:
    root, commits = mirror
    keep = lambda u: u.key == "pawsx/de/test"  # noqa: E731
    manifest = fetch_from(root, tmp_path / "ok", ["pawsx"], keep=keep,
                          pins={"google/xtreme": commits["google/xtreme"]})
    assert manifest["units"][0]["sources"][0]["revision_read"] == commits["google/xtreme"]
    with pytest.raises(UserError, match="pinned to revision 0000"):
        fetch_from(root, tmp_path / "bad", ["pawsx"], keep=keep,
                   pins={"google/xtreme": "0000"})


def test_offline_hub_without_mirror_is_a_clear_error(tmp_path) -> None:
    unit = next(u for u in UNITS["pawsx"] if u.language == "de" and u.split == "test")
    with SourceReader(raw_dir=tmp_path) as reader, pytest.raises(UserError) as info:
        fetch([unit], reader, tmp_path / "out", synthetic=False, origin="hub")
    assert "google/xtreme@main" in str(info.value)
    assert "--hub-mirror" in str(info.value)


def test_licensed_ccg_files_missing_is_a_clear_error(tmp_path) -> None:
    with SourceReader(raw_dir=tmp_path / "raw") as reader, pytest.raises(UserError) as info:
        fetch(UNITS["ccg"], reader, tmp_path / "out", synthetic=False, origin="hub")
    message = str(info.value)
    assert str(tmp_path / "raw" / "ccg" / "train.tsv") in message
    assert "LDC2005T13" in message


def test_ccg_user_files_are_read(tmp_path) -> None:
    raw = tmp_path / "raw" / "ccg"
    raw.mkdir(parents=True)
    (raw / "train.tsv").write_text("Ada runs .\tNP S[dcl]\\NP .\n", encoding="utf-8")
    (raw / "dev.tsv").write_text("Bo sleeps\tNP S[dcl]\\NP\n", encoding="utf-8")
    with SourceReader(raw_dir=tmp_path / "raw") as reader:
        fetch(UNITS["ccg"], reader, tmp_path / "out", synthetic=False, origin="hub")
    train = read_table(tmp_path / "out", "ccg", "en", "train").to_pydict()
    assert train["tokens"] == [["Ada", "runs", "."]]
    assert train["tags"] == [["NP", "S[dcl]\\NP", "."]]
    (raw / "dev.tsv").write_text("Bo sleeps\tNP\n", encoding="utf-8")
    with SourceReader(raw_dir=tmp_path / "raw") as reader, \
            pytest.raises(UserError, match=r"dev.tsv:1: expected 'tokens<TAB>tags'"):
        fetch(UNITS["ccg"], reader, tmp_path / "out", synthetic=False, origin="hub")


def test_bucc_original_files(tmp_path) -> None:
    folder = tmp_path / "raw" / "bucc2018" / "de-en"
    folder.mkdir(parents=True)
    for part in ("sample", "training"):
        (folder / f"de-en.{part}.de").write_text(
            "de-000000001\tHallo Welt\nde-000000002\tNur hier\n", encoding="utf-8")
        (folder / f"de-en.{part}.en").write_text(
            "en-000000007\tHello world\nen-000000008\tOnly here\n", encoding="utf-8")
        (folder / f"de-en.{part}.gold").write_text("de-000000001\ten-000000007\n",
                                                   encoding="utf-8")
    units = [u for u in UNITS["bucc2018"] if u.language == "de"]
    with SourceReader(raw_dir=tmp_path / "raw") as reader:
        manifest = fetch(units, reader, tmp_path / "out", synthetic=False, origin="hub")
    table = read_table(tmp_path / "out", "bucc2018", "de", "test").to_pydict()
    assert table["side"] == ["source", "source", "target", "target"]
    assert table["gold_id"] == ["en-000000007", None, None, None]
    assert all(s["revision_read"] for u in manifest["units"] for s in u["sources"])


def test_read_table_detects_corruption(mirror, tmp_path) -> None:
    root, _ = mirror
    fetch_from(root, tmp_path, ["pawsx"], keep=lambda u: u.key == "pawsx/de/test")
    path = tmp_path / "pawsx" / "de" / "test.parquet"
    assert pq.read_table(path).num_rows == 2
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(UserError, match="does not match its manifest hash"):
        read_table(tmp_path, "pawsx", "de", "test")
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="is not valid JSON"):
        read_table(tmp_path, "pawsx", "de", "test")


def test_manifest_records_sources(mirror, tmp_path) -> None:
    root, commits = mirror
    fetch_from(root, tmp_path, ["tydiqa"], keep=lambda u: u.key == "tydiqa/en/train")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (unit,) = manifest["units"]
    assert unit["rows"] == 2 and unit["columns"][:2] == ["id", "title"]
    (source,) = unit["sources"]
    assert source["dataset"] == "google/xtreme" and source["config"] == "tydiqa"
    assert source["select"] == {"id_prefix": "english-"}
    assert source["revision_read"] == commits["google/xtreme"]
    assert len(manifest["data_version"]) == 64


def test_original_downloads_are_fetched_and_unpacked(tmp_path) -> None:
    """The download path, offline: a file:// URL to an archive laid out like BUCC's."""
    import tarfile

    from xstilts.tasks.sources import DownloadSource

    staging = tmp_path / "staging" / "bucc2018" / "fr-en"
    staging.mkdir(parents=True)
    for ext in ("fr", "en", "gold"):
        (staging / f"fr-en.sample.{ext}").write_text("x\n", encoding="utf-8")
    archive = tmp_path / "bucc2018-fr-en.sample-gold.tar.bz2"
    with tarfile.open(archive, "w:bz2") as tar:
        tar.add(staging.parent, arcname="bucc2018")
    source = DownloadSource(name="bucc2018", urls=(archive.as_uri(),),
                            files=tuple(f"fr-en/fr-en.sample.{e}" for e in ("fr", "en", "gold")),
                            instructions="Download it yourself.")
    reader = SourceReader(raw_dir=tmp_path / "raw")
    folder, revision = reader.load(source)
    assert folder == tmp_path / "raw" / "bucc2018"
    assert (folder / "fr-en" / "fr-en.sample.gold").read_text() == "x\n"
    assert len(revision) == 64
    unreachable = source.model_copy(update={
        "name": "other", "urls": ((tmp_path / "missing.tar.bz2").as_uri(),)})
    with pytest.raises(UserError, match="cannot download .*missing.tar.bz2.*Download it"):
        reader.load(unreachable)
    assert not any((tmp_path / "raw" / "other").iterdir())  # nothing half-downloaded


def test_a_changed_mirror_is_read_again(tmp_path) -> None:
    """A new commit in a mirror is read afresh, never served from a stale cache."""
    root = tmp_path / "mirror"
    keep = lambda u: u.key == "pawsx/de/test"  # noqa: E731
    labels = {"sentence1": Value("string"), "sentence2": Value("string"),
              "label": Value("string")}
    first = write_repo(root, "google/xtreme", {"PAWS-X.de": {"test": ds(
        {"sentence1": ["a"], "sentence2": ["b"], "label": ["0"]}, labels)}})
    fetch_from(root, tmp_path / "one", ["pawsx"], keep=keep)
    second = write_repo(root, "google/xtreme", {"PAWS-X.de": {"test": ds(
        {"sentence1": ["c", "d"], "sentence2": ["e", "f"], "label": ["1", "1"]}, labels)}})
    manifest = fetch_from(root, tmp_path / "two", ["pawsx"], keep=keep)
    assert first != second
    assert manifest["units"][0]["sources"][0]["revision_read"] == second
    assert read_table(tmp_path / "two", "pawsx", "de", "test").to_pydict()["text_a"] == \
        ["c", "d"]
