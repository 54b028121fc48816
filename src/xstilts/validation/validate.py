"""Run the catalogue's checks with Great Expectations and report what failed.

This is the only module that imports great_expectations (its import takes seconds and pulls
in scipy and altair), and it does so inside ``validate``: nothing else pays for it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xstilts.atomic import atomic_path, write_text
from xstilts.data.fetch import DataFolder
from xstilts.validation.checks import LANGUAGE, Check, TableGroup, frame, plan, tag_checks, \
    tag_frame

SUMMARY = "summary.md"
FAILURES = "failures.json"
DATA_DOCS = "data_docs"
EXAMPLES = 5  # example rows shown per failure


@dataclass
class Failure:
    """One failed expectation, named as a user looks for it."""

    corpus: str
    split: str
    tasks: tuple[str, ...]
    languages: tuple[str, ...]
    expectation: str
    meaning: str
    column: str | None
    unexpected: int | None
    examples: list[dict[str, Any]] = field(default_factory=list)

    def line(self) -> str:
        langs = ", ".join(self.languages) or "all"
        count = f" ({self.unexpected} rows)" if self.unexpected else ""
        return (f"{self.corpus} {self.split} [{langs}] (tasks: {', '.join(self.tasks)}): "
                f"{self.meaning} -- {self.expectation}"
                f"{f' on {self.column}' if self.column else ''} failed{count}")


@dataclass
class Outcome:
    """The result of validating a data folder."""

    data_dir: str
    data_version: str
    synthetic: bool
    groups: list[dict[str, Any]]
    failures: list[Failure]
    checks: int
    seconds: float
    data_docs: str | None = None

    @property
    def success(self) -> bool:
        return not self.failures


def validate(data_dir: Path, tasks: Iterable[str] | None = None,
             report_dir: Path | None = None) -> Outcome:
    """Validate the data folder's tables (those the named tasks need, or all it holds);
    with ``report_dir``, write Data Docs, a Markdown summary and the failures as JSON."""
    started = time.perf_counter()
    data = DataFolder(Path(data_dir))
    groups = plan(data, None if tasks is None else list(tasks))
    context = _Context(report_dir)
    failures: list[Failure] = []
    described = []
    n_checks = 0
    train_keys: dict[tuple[str, str], frozenset[str]] = {}
    for group in groups:
        df = frame(group, data, train_keys)
        failures.extend(_unreadable(group))
        n_checks += len(group.checks)
        failures.extend(context.run(group, group.name, group.checks, df))
        extra = tag_checks(group)
        if extra:
            n_checks += len(extra)
            failures.extend(context.run(group, f"{group.name}.tags", extra,
                                        tag_frame(group, df)))
        described.append({"corpus": group.corpus, "split": group.split,
                          "tasks": list(group.tasks), "languages": len(group.present),
                          "expected_languages": len(group.languages), "rows": len(df),
                          "failed": sum(1 for f in failures
                                        if (f.corpus, f.split) == (group.corpus, group.split))})
    outcome = Outcome(data_dir=str(data_dir), data_version=data.manifest["data_version"],
                      synthetic=bool(data.manifest["synthetic"]), groups=described,
                      failures=failures, checks=n_checks,
                      seconds=time.perf_counter() - started)
    if report_dir is not None:
        write_report(outcome, Path(report_dir), context)
    return outcome


def failure_message(outcome: Outcome, limit: int = 10) -> str:
    """One message naming every failure (the first ``limit`` in full)."""
    lines = [f.line() + (f"; e.g. {json.dumps(f.examples[0], ensure_ascii=False)[:160]}"
                         if f.examples else "")
             for f in outcome.failures[:limit]]
    more = len(outcome.failures) - limit
    if more > 0:
        lines.append(f"... and {more} more")
    return (f"data validation failed ({len(outcome.failures)} failed expectations in "
            f"{outcome.data_dir}):\n  " + "\n  ".join(lines))


def _unreadable(group: TableGroup) -> list[Failure]:
    """Per-table problems found while reading: a bad file, or a missing column (which the
    frame of all languages would only show as missing values)."""
    failures = [Failure(group.corpus, group.split, group.tasks, (language,), "manifest hash",
                        "the table is readable and matches its manifest hash", None, None,
                        [{"error": why}])
                for language, why in group.unreadable.items()]
    for language, columns in group.missing_columns.items():
        failures.extend(Failure(group.corpus, group.split, group.tasks, (language,),
                                "expect_column_to_exist", f"required column '{column}' exists",
                                column, None, [{"table_language": language,
                                                "missing_column": column}])
                        for column in columns)
    return failures


class _Context:
    """One ephemeral Great Expectations context for the whole folder."""

    def __init__(self, report_dir: Path | None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.batch = (self.context.data_sources.add_pandas("xstilts")
                      .add_dataframe_asset("tables")
                      .add_batch_definition_whole_dataframe("whole table"))
        self.docs_dir: Path | None = None
        if report_dir is not None:
            self.docs_dir = Path(report_dir).resolve() / f".{DATA_DOCS}.building"
            shutil.rmtree(self.docs_dir, ignore_errors=True)  # left by an interrupted run
            self.context.add_data_docs_site(site_name="xstilts", site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})

    def run(self, group: TableGroup, name: str, checks: list[Check],
            df: pd.DataFrame) -> list[Failure]:
        import great_expectations.expectations as gxe

        expectations = [getattr(gxe, check.expectation)(**check.kwargs,
                                                        meta={"meaning": check.meaning})
                        for check in checks]
        suite = self.context.suites.add(self.gx.ExpectationSuite(name=name,
                                                                 expectations=expectations))
        definition = self.context.validation_definitions.add(
            self.gx.ValidationDefinition(name=name, data=self.batch, suite=suite))
        result = definition.run(batch_parameters={"dataframe": df}, result_format="COMPLETE")
        failures = []
        for item in result.results:
            if item.success:
                continue
            config = item.expectation_config
            failures.append(_failure(group, config.type, config.kwargs,
                                     (config.meta or {}).get("meaning", config.type),
                                     item.result or {}, item.exception_info or {}, df))
        return failures

    def build_docs(self) -> Path | None:
        if self.docs_dir is None:
            return None
        self.context.build_data_docs(site_names=["xstilts"])
        return self.docs_dir


def _failure(group: TableGroup, kind: str, kwargs: dict, meaning: str, result: dict,
             exception: dict, df: pd.DataFrame) -> Failure:
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None
    languages: tuple[str, ...] = tuple(group.present)
    examples: list[dict[str, Any]] = []
    indices = result.get("unexpected_index_list") or []
    if indices:
        rows = df.loc[[i for i in indices if i in df.index]]
        languages = tuple(dict.fromkeys(rows[LANGUAGE]))
        shown = [c for c in (LANGUAGE, "id", column) if c and c in rows.columns]
        examples = [_plain(r) for r in rows[shown].head(EXAMPLES).to_dict("records")]
    elif kind == "expect_column_distinct_values_to_equal_set":
        missing = sorted(map(str, result.get("partial_missing_list") or []))
        extra = sorted(map(str, result.get("partial_unexpected_list") or []))
        if column == LANGUAGE:
            languages = tuple(missing or extra)
        examples = [{"missing": missing, "unexpected": extra}]
    elif not result or exception.get("raised_exception"):
        message = exception.get("exception_message") or "column missing"
        examples = [{"error": str(message).splitlines()[0] if message else "not evaluated"}]
    return Failure(group.corpus, group.split, group.tasks, languages, kind, meaning, column,
                   result.get("unexpected_count"), examples)


def _plain(row: dict) -> dict:
    """Example values as JSON-friendly plain types."""
    out = {}
    for key, value in row.items():
        if hasattr(value, "tolist"):
            value = value.tolist()
        elif hasattr(value, "item"):
            value = value.item()
        out[key] = value if isinstance(value, (str, int, float, bool, list, type(None))) \
            else str(value)
    return out


# --------------------------------------------------------------------------- reports

def write_report(outcome: Outcome, report_dir: Path, context: _Context) -> None:
    """Data Docs (a folder), the Markdown summary and failures.json, each written whole."""
    report_dir.mkdir(parents=True, exist_ok=True)
    try:
        built = context.build_docs()
        if built is not None:
            with atomic_path(report_dir / DATA_DOCS) as staged:
                os.replace(built, staged)
            outcome.data_docs = str(report_dir / DATA_DOCS / "index.html")
    finally:  # a failed build (a full disk) leaves no partial site behind
        if context.docs_dir is not None:
            shutil.rmtree(context.docs_dir, ignore_errors=True)
    write_text(report_dir / FAILURES, json.dumps(
        [asdict(f) for f in outcome.failures], indent=2, ensure_ascii=False, default=str) + "\n")
    write_text(report_dir / SUMMARY, summary(outcome))


def summary(outcome: Outcome) -> str:
    """A Markdown summary that reads on its own."""
    verdict = "PASSED" if outcome.success else f"FAILED ({len(outcome.failures)} failures)"
    lines = [f"# Data validation: {verdict}", ""]
    if outcome.synthetic:
        lines += ["> **SYNTHETIC data**: an offline stand-in for the benchmarks.", ""]
    lines += [f"- data folder: `{outcome.data_dir}`",
              f"- data version: `{outcome.data_version}`",
              f"- {len(outcome.groups)} table groups, {outcome.checks} expectations, "
              f"{outcome.seconds:.1f} s", ""]
    if outcome.failures:
        lines += ["## Failures", ""]
        for failure in outcome.failures:
            lines.append(f"- **{failure.corpus} / {failure.split}** "
                         f"[{', '.join(failure.languages) or 'all'}] "
                         f"(tasks: {', '.join(failure.tasks)}): {failure.meaning}. "
                         f"`{failure.expectation}`"
                         f"{f' on `{failure.column}`' if failure.column else ''}"
                         f"{f', {failure.unexpected} rows' if failure.unexpected else ''}")
            for example in failure.examples:
                lines.append(f"  - `{json.dumps(example, ensure_ascii=False)[:300]}`")
        lines.append("")
    lines += ["## Tables", "", "| corpus | split | tasks | languages | rows | failed |",
              "|---|---|---|---|---|---|"]
    for g in outcome.groups:
        lines.append(f"| {g['corpus']} | {g['split']} | {', '.join(g['tasks'])} | "
                     f"{g['languages']}/{g['expected_languages']} | {g['rows']} | "
                     f"{g['failed']} |")
    return "\n".join(lines) + "\n"
