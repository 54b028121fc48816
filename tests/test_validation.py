"""The data gate: real Great Expectations on clean synthetic data and on corrupted copies."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xstilts.data.fetch import MANIFEST, _data_version, _sha256, fetch, units_for
from xstilts.data.synthetic import SyntheticSource
from xstilts.validation.validate import validate

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic data for every catalogue task."""
    out = tmp_path_factory.mktemp("clean") / "data"
    with SyntheticSource() as source:
        fetch(units_for(None), source, out, synthetic=True, origin="synthetic")
    return out


@pytest.fixture(scope="module")
def clean_outcome(clean: Path, tmp_path_factory: pytest.TempPathFactory):
    return validate(clean, None, tmp_path_factory.mktemp("report"))


def _copy(clean: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(clean, target)
    return target


def rewrite_table(folder: Path, key: str, edit: Callable[[pd.DataFrame], pd.DataFrame],
             update_manifest: bool = True) -> None:
    """Replace one table by an edited copy, as a faulty upstream source would deliver it:
    the manifest is updated to match (unless asked not to), so only the content is wrong."""
    path = folder / f"{key}.parquet"
    original = pq.read_table(path)
    df = edit(original.to_pandas())
    fields = [original.schema.field(c) for c in df.columns if c in original.schema.names]
    schema = pa.schema(fields + [pa.field(c, pa.string()) for c in df.columns
                                 if c not in original.schema.names])
    pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False), path)
    if update_manifest:
        manifest = json.loads((folder / MANIFEST).read_text())
        for unit in manifest["units"]:
            if unit["key"] == key:
                unit["sha256"], unit["rows"] = _sha256(path), len(df)
        manifest["data_version"] = _data_version(manifest["units"])
        (folder / MANIFEST).write_text(json.dumps(manifest))


def _drop_unit(folder: Path, key: str) -> None:
    (folder / f"{key}.parquet").unlink()
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["units"] = [u for u in manifest["units"] if u["key"] != key]
    (folder / MANIFEST).write_text(json.dumps(manifest))


def set_cell(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.at[row, column] = value
        return df
    return edit


def _first_answer_shifted(df: pd.DataFrame) -> pd.DataFrame:
    answers = dict(df.at[0, "answers"])
    answers["answer_start"] = [s + 1 for s in answers["answer_start"]]
    df.at[0, "answers"] = answers
    return df


def _leak(df: pd.DataFrame) -> pd.DataFrame:
    train = pq.read_table(_leak.train).to_pandas()  # type: ignore[attr-defined]
    rows = train.head(20).assign(id=[f"leaked-{i}" for i in range(20)])
    return pd.concat([df, rows[df.columns]], ignore_index=True)


# (case, task, table key, edit, expected expectation, expected column, expected language)
CASES = [
    ("missing column", "xnli", "xnli/de/test", lambda df: df.drop(columns=["text_b"]),
     "expect_column_to_exist", "text_b", "de"),
    ("empty text", "xnli", "xnli/fr/test", set_cell("text_a", 3, "   "),
     "expect_column_values_to_match_regex", "text_a", "fr"),
    ("label outside the set", "xnli", "xnli/ru/validation", set_cell("label", 0, "maybe"),
     "expect_column_values_to_be_in_set", "label", "ru"),
    ("label absent from train", "mnli", "mnli/en/train",
     lambda df: df.assign(label=df["label"].replace("neutral", "entailment")),
     "expect_column_distinct_values_to_equal_set", "label", "en"),
    ("tags shorter than tokens", "panx", "panx/de/test",
     set_cell("tags", 2, ["O"]), "expect_column_values_to_be_in_set", "tags_aligned", "de"),
    ("empty sentence", "udpos", "udpos/fr/test",
     lambda df: set_cell("tags", 1, [])(set_cell("tokens", 1, [])(df)),
     "expect_column_values_to_be_between", "n_tokens", "fr"),
    ("tag outside the set", "panx", "panx/es/validation",
     lambda df: set_cell("tags", 0, ["B-FOO"] * len(df.at[0, "tokens"]))(df),
     "expect_column_values_to_be_in_set", "tag", "es"),
    ("answer not at its offset", "xquad", "xquad/de/test", _first_answer_shifted,
     "expect_column_values_to_be_in_set", "answers_at_offsets", "de"),
    ("answerable question without answer", "mlqa", "mlqa/ar/test",
     set_cell("answers", 0, {"text": [], "answer_start": []}),
     "expect_column_values_to_be_between", "n_answers", "ar"),
    ("duplicate id", "pawsx", "pawsx/ko/test",
     lambda df: set_cell("id", 1, df.at[0, "id"])(df),
     "expect_compound_columns_to_be_unique", "table_language,id", "ko"),
    ("train examples in test", "xnli", "xnli/en/test", _leak,
     "expect_column_values_to_be_in_set", "in_train", "en"),
    ("too few rows", "xnli", "xnli/th/validation", lambda df: df.head(5),
     "expect_column_values_to_be_between", "table_rows", "th"),
    ("choice label out of range", "xcopa", "xcopa/it/test", set_cell("label", 0, 7),
     "expect_column_values_to_be_in_set", "label_in_range", "it"),
    ("gold id of no target row", "tatoeba", "tatoeba/de/test", set_cell("gold_id", 0, "nowhere"),
     "expect_column_values_to_be_in_set", "gold_known", "de"),
    ("mention not at its offsets", "mewslix", "mewslix/ja/test",
     lambda df: set_cell("mention_start", 0, df.at[0, "mention_start"] + 1)(df),
     "expect_column_values_to_be_in_set", "mention_at_offsets", "ja"),
]


def test_clean_synthetic_data_passes(clean_outcome) -> None:
    assert clean_outcome.success, [f.line() for f in clean_outcome.failures]
    assert len(clean_outcome.groups) == 50 and clean_outcome.checks > 600
    assert clean_outcome.synthetic


def test_report_files(clean_outcome) -> None:
    docs = Path(clean_outcome.data_docs)
    assert docs.is_file() and "xnli.test" in docs.read_text()
    summary = (docs.parent.parent / "summary.md").read_text()
    assert summary.startswith("# Data validation: PASSED") and "SYNTHETIC" in summary
    assert json.loads((docs.parent.parent / "failures.json").read_text()) == []


@pytest.mark.parametrize("case,task,key,edit,expectation,column,language", CASES,
                         ids=[c[0] for c in CASES])
def test_corruption_is_caught(clean: Path, tmp_path: Path, case: str, task: str, key: str,
                              edit: Callable, expectation: str, column: str,
                              language: str) -> None:
    folder = _copy(clean, tmp_path)
    _leak.train = folder / "mnli/en/train.parquet"  # type: ignore[attr-defined]
    rewrite_table(folder, key, edit)
    outcome = validate(folder, [task])
    corpus, _, split = key.split("/")
    assert not outcome.success
    matching = [f for f in outcome.failures
                if (f.corpus, f.split, f.expectation, f.column) ==
                (corpus, split, expectation, column)]
    assert matching, [f.line() for f in outcome.failures]
    assert matching[0].languages == (language,)
    assert task in matching[0].tasks
    if matching[0].unexpected:  # row-level: example rows name the language and id
        assert matching[0].examples and matching[0].examples[0]["table_language"] == language
        assert "id" in matching[0].examples[0]


def test_missing_language_table(clean: Path, tmp_path: Path) -> None:
    folder = _copy(clean, tmp_path)
    _drop_unit(folder, "xnli/sw/test")
    outcome = validate(folder, ["xnli"])
    [failure] = outcome.failures
    assert (failure.split, failure.column, failure.languages) == ("test", "table_language",
                                                                  ("sw",))
    assert failure.examples == [{"missing": ["sw"], "unexpected": []}]


def test_edited_file_fails_its_hash(clean: Path, tmp_path: Path) -> None:
    folder = _copy(clean, tmp_path)
    rewrite_table(folder, "pawsx/de/validation", lambda df: df.head(50), update_manifest=False)
    outcome = validate(folder, ["pawsx"])
    assert any(f.expectation == "manifest hash" and f.languages == ("de",)
               and f.split == "validation" for f in outcome.failures)


def test_cli_names_the_failure_and_writes_the_report(clean: Path, tmp_path: Path) -> None:
    folder = _copy(clean, tmp_path)
    rewrite_table(folder, "xnli/fr/test", set_cell("label", 4, "maybe"))
    report = tmp_path / "report"
    run = subprocess.run([sys.executable, "-m", "xstilts.cli", "data", "validate", "--data",
                          str(folder), "--tasks", "xnli", "--report", str(report)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "xnli test [fr]" in run.stdout and "expect_column_values_to_be_in_set" in run.stdout
    assert '"label": "maybe"' in run.stdout and "Traceback" not in run.stderr
    summary = (report / "summary.md").read_text()
    assert summary.startswith("# Data validation: FAILED (1 failures)")
    assert "xnli-fr-4" in summary or '"id"' in summary
    assert (report / "data_docs" / "index.html").is_file()


def test_great_expectations_is_imported_only_by_validation() -> None:
    code = ("import sys, xstilts.cli, xstilts.runner, xstilts.study, xstilts.data.versioning,"
            " xstilts.validation.checks, pipelines.study, components.data;"
            " print('great_expectations' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True)
    assert run.stdout.strip() == "False"
    importers = [p.relative_to(REPO).as_posix() for folder in ("src", "components", "pipelines")
                 for p in (REPO / folder).rglob("*.py")
                 if "import great_expectations" in p.read_text()]
    assert importers == ["src/xstilts/validation/validate.py"]
