"""The report end to end: ``xstilts report RUN_DIR`` on a constructed run folder with
predictions and gold labels (outputs, figures, synthetic labels, flags, determinism, bad
input), and the report of a real engine run on synthetic data with tiny models."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xstilts.analysis.constructed_grid import constructed_config
from xstilts.analysis.report import CSV_FILES, FIGURES
from xstilts.analysis.results import gains_frame, scores_frame, write_frame
from xstilts.evaluation.leaderboard import score_language, write_task_file
from xstilts.tasks.catalogue import NLI_LABELS
from xstilts.tasks.languages import XTREME_R_TASK2LANGS

ARCHS = ["mbert", "xlmr-base"]
SETTINGS = ["none", "mnli", "qqp"]
SEEDS = [0, 1]
TARGETS = ["xnli", "tatoeba"]
ACCURACY = {"none": 0.55, "mnli": 0.75, "qqp": 0.5}  # share of examples predicted right
EXAMPLES = 40


def xstilts(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts.cli", *map(str, args)],
                          capture_output=True, text=True, check=False)


def _gold(task: str, rng: np.random.Generator) -> list:
    if task == "xnli":
        return [NLI_LABELS[i] for i in rng.integers(3, size=EXAMPLES)]
    return rng.permutation(EXAMPLES).tolist()


def _predicted(task: str, gold: list, share: float, rng: np.random.Generator) -> list:
    right = rng.random(len(gold)) < share
    if task == "xnli":
        return [g if r else NLI_LABELS[(NLI_LABELS.index(g) + 1) % 3]
                for g, r in zip(gold, right)]
    return [g if r else (g + 1) % EXAMPLES for g, r in zip(gold, right)]


def make_run(run_dir: Path, drop: tuple[str, str, int] | None = None) -> Path:
    """A run folder as ``xstilts run`` leaves it: scores, gains, predictions, run.json,
    and gold labels in RUN_DIR/labels. ``drop`` leaves one (arch, setting, seed) out."""
    rng = np.random.default_rng(7)
    rows = []
    labels = run_dir / "labels"
    for task in TARGETS:
        for language in XTREME_R_TASK2LANGS[task]:
            gold = _gold(task, rng)
            write_task_file(labels, task, language, gold, "labels")
            for arch in ARCHS:
                for inter in SETTINGS:
                    for seed in SEEDS:
                        if drop == (arch, inter, seed):
                            continue
                        share = ACCURACY[inter] + (0.1 if arch == "xlmr-base" else 0)
                        cell = run_dir / "predictions" / arch / inter / str(seed)
                        write_task_file(cell, task, language,
                                        _predicted(task, gold, share, rng), "predictions")
                        for metric, value in score_language(task, language, cell,
                                                            labels).items():
                            rows.append({"architecture": arch, "intermediate": inter,
                                         "seed": seed, "target": task, "language": language,
                                         "metric": metric, "value": value})
    scores = scores_frame(rows)
    write_frame(scores, run_dir, "scores")
    write_frame(gains_frame(scores), run_dir, "gains")
    config = constructed_config(ARCHS, SETTINGS, TARGETS, SEEDS, name="constructed-run")
    dev = [{"architecture": a, "intermediate": i, "seed": s, "target": "xnli",
            "dev_score": 60.0 + 10 * ACCURACY[i]} for a in ARCHS for i in SETTINGS
           for s in SEEDS]
    record = {"study": config.name, "config": config.model_dump(mode="json"),
              "data_version": "d" * 64, "data_synthetic": True,
              "code_version": "0.1.0+constructed", "english_dev": dev}
    (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return run_dir


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    run_dir = make_run(tmp_path_factory.mktemp("run") / "run", drop=("xlmr-base", "qqp", 1))
    out = run_dir.parent / "out"
    result = xstilts("report", run_dir, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout and "report.md" in result.stdout
    return run_dir, out


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_cli_writes_markdown_html_figures_and_tables(reported) -> None:
    import matplotlib.image

    _, out = reported
    for name in ["report.md", "report.html", "headline.json", *FIGURES, *CSV_FILES]:
        assert (out / name).is_file(), name
    for name in FIGURES:
        data = (out / name).read_bytes()
        width, height = png_size(data)
        assert width > 400 and height > 300 and len(data) > 10_000, name
        pixels = matplotlib.image.imread(out / name)
        assert pixels.std() > 0.05, f"{name} looks blank"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == len(FIGURES)
    assert "<img src=\"gain" not in page  # one self-contained file, no linked images
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for text in ("## Question", "## Setup", "## Answer", "mbert, xlmr-base",
                 "baseline `none`", "mnli, qqp", "xnli (15 languages)", "0, 1 (2 per cell)",
                 "**Recipe**: jiant", "d" * 64, "0.1.0+constructed", "## Gain per target",
                 "Benchmark aggregates", "Kendall τ", "Best intermediate setting per target",
                 "Gains by language family", "## Significance", "![Gain per"):
        assert text in markdown, text
    # the answer is generated from the numbers: the better setting is named
    assert "The best intermediate setting on average over targets is mnli for mbert" in \
        markdown
    headline = json.loads((out / "headline.json").read_text(encoding="utf-8"))
    assert headline["mean_gain.xlmr-base"] != 0 and headline["synthetic_data"] == 1.0


def test_every_output_is_labelled_synthetic(reported) -> None:
    _, out = reported
    markdown = (out / "report.md").read_text(encoding="utf-8").splitlines()
    assert "SYNTHETIC DATA" in "\n".join(markdown[:4])
    page = (out / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>"):]
    assert "SYNTHETIC DATA" in body[:600]
    for name in CSV_FILES:
        frame = pd.read_csv(out / name)
        assert frame.columns[0] == "data", name
        assert (frame["data"] == "SYNTHETIC").all(), name


def test_example_and_seed_intervals_and_flags(reported) -> None:
    run_dir, out = reported
    gains = pd.read_csv(out / "gains_by_target.csv")
    gains = gains.set_index(["architecture", "intermediate", "target"])
    row = gains.loc[("mbert", "mnli", "xnli")]
    assert row["status"] == "ok" and row["n_seeds"] == 2
    assert row["example_ci_low"] < row["gain"] < row["example_ci_high"]
    assert row["seed_ci_low"] <= row["gain"] <= row["seed_ci_high"]
    assert row["gain"] > 10  # 75% vs 55% right
    flagged = gains.loc[("xlmr-base", "qqp", "xnli")]
    assert flagged["status"] == "fewer seeds (1/2)" and np.isnan(flagged["seed_ci_low"])
    notes = pd.read_csv(out / "example_bootstrap.csv").set_index("target")
    assert notes.loc["tatoeba", "example_bootstrap"].startswith("resampled sentences")
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "fewer seeds (1/2)" in markdown and " †" in markdown
    by_language = pd.read_csv(out / "gains_by_language.csv")
    assert by_language["example_ci_low"].notna().all()
    assert len(by_language) == len(ARCHS) * 2 * (15 + 41)


def test_same_run_gives_byte_identical_tables(reported, tmp_path: Path) -> None:
    run_dir, out = reported
    result = xstilts("report", run_dir, "--out", tmp_path / "again")
    assert result.returncode == 0, result.stderr
    for name in [*CSV_FILES, "report.md", "headline.json"]:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_default_out_is_the_run_folders_report(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    result = xstilts("report", run_dir, "--no-example-bootstrap")
    assert result.returncode == 0, result.stderr
    assert (run_dir / "report" / "report.md").is_file()
    notes = pd.read_csv(run_dir / "report" / "example_bootstrap.csv")
    assert notes["example_bootstrap"].str.contains("not computed").all()


@pytest.mark.parametrize("case", ["missing", "no-scores", "bad-labels"])
def test_bad_run_folder_is_a_one_line_error(tmp_path: Path, case: str) -> None:
    from test_cli import assert_user_error

    if case == "missing":
        result = xstilts("report", tmp_path / "nowhere")
        assert_user_error(result, "nowhere", "no such folder")
    elif case == "no-scores":
        (tmp_path / "run").mkdir()
        result = xstilts("report", tmp_path / "run")
        assert_user_error(result, "no scores.parquet")
    else:
        run_dir = make_run(tmp_path / "run")
        result = xstilts("report", run_dir, "--labels", tmp_path / "nolabels")
        assert_user_error(result, "--labels", "no such folder")
    assert len(result.stderr.strip().splitlines()) <= 2  # one line, maybe wrapped


# --------------------------------------------------------------------------- engine run

STUDY = {
    "name": "mini-report",
    "architectures": ["tiny-mbert"],
    "intermediate": ["none", "mnli"],
    "targets": ["xnli", "panx"],
    "recipe": "smoke",
    "budget": {"max_steps": 4, "max_train_examples": 48, "max_eval_examples": 12},
}


def test_engine_run_report_is_labelled_synthetic_with_tiny_models(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from xstilts.runner import run_study
    from xstilts.study import StudyConfig

    data = tmp_path_factory.mktemp("report-data") / "data"
    run_dir = tmp_path_factory.mktemp("report-run") / "run"
    config = StudyConfig.model_validate({**STUDY, "data": {"out": str(data)}})
    run_study(config, run_dir)
    report = run_dir / "report"
    markdown = (report / "report.md").read_text(encoding="utf-8")
    banner = "SYNTHETIC DATA with tiny models (tiny-mbert)"
    assert banner in "\n".join(markdown.splitlines()[:4])
    assert banner in (report / "report.html").read_text(encoding="utf-8")
    assert "English dev score" in markdown and "mnli" in markdown
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["data_version"] in markdown and record["code_version"] in markdown
    gains = pd.read_csv(report / "gains_by_target.csv")
    assert set(gains["target"]) == {"xnli", "panx"} and (gains["data"] == "SYNTHETIC").all()
    # the engine's stage folders hold gold labels: example-bootstrap intervals exist
    assert gains["example_ci_low"].notna().all() and gains["example_ci_high"].notna().all()
    assert (gains["example_ci_low"] <= gains["gain"] + 1e-9).all()
    for name in FIGURES:
        assert (report / name).stat().st_size > 5_000
    # the CLI reports on the same folder again, finding the labels in the stage folders
    result = xstilts("report", run_dir, "--out", run_dir / "again")
    assert result.returncode == 0, result.stderr
    assert (run_dir / "again" / "gains_by_target.csv").read_bytes() == \
        (report / "gains_by_target.csv").read_bytes()
