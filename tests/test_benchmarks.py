"""The benchmark harness (benchmarks/run.py) works: it runs the cheap benchmarks at tiny
sizes and writes well-formed results. Timings are not asserted; the study benchmark
(minutes) is left to ``python benchmarks/run.py --quick``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
FIELDS = {"name", "value", "baseline_value", "unit", "ratio", "target", "met", "notes",
          "better", "ratio_of", "skipped", "details"}

sys.path.insert(0, str(BENCHMARKS))

from common import Result, parse_target, skipped, target_met  # noqa: E402


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def _check_record(record: dict) -> None:
    assert FIELDS <= record.keys(), FIELDS - record.keys()
    assert isinstance(record["name"], str) and record["name"]
    assert isinstance(record["notes"], str) and record["notes"]
    assert record["better"] in ("higher", "lower")
    operator, threshold = parse_target(record["target"])
    assert operator in (">=", "<=", ">", "<") and threshold > 0
    if record["skipped"]:  # value: the xstilts side, where it could still run
        assert record["met"] is None and record["ratio"] is None
        assert record["baseline_value"] is None
        assert record["notes"].startswith("skipped: ")
        return
    value, baseline = record["value"], record["baseline_value"]
    assert value > 0 and baseline > 0, record
    expected = value / baseline if record["better"] == "higher" else baseline / value
    assert record["ratio_of"] == ("value / baseline_value" if record["better"] == "higher"
                                  else "baseline_value / value")
    assert math.isclose(record["ratio"], expected, rel_tol=1e-9)
    assert record["met"] is target_met(record["target"], record["ratio"])


def test_run_writes_consistent_results(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = _run(str(BENCHMARKS / "run.py"), "--tiny", "--only",
                "training,evaluation,mining,gpu", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    records = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(records, list)
    names = [r["name"] for r in records]
    assert len(names) == len(set(names))
    by_name = {r["name"]: r for r in records}
    for expected in ("training throughput vs Trainer (run_glue defaults)",
                     "training throughput vs Trainer (tuned)",
                     "zero-shot evaluation throughput (XNLI, all languages)",
                     "mining time (BUCC-sized margin scores)", "mining peak memory"):
        assert expected in names
        assert by_name[expected]["value"] > 0  # the xstilts side ran, baseline or not
    assert any(name.startswith("GPU training MFU") for name in names)
    for record in records:
        _check_record(record)
        assert record["details"]["mode"] == "tiny"
    mining = next(r for r in records if r["name"] == "mining peak memory")
    assert mining["unit"] == "MiB" and not mining["skipped"]
    assert mining["details"]["top1_agreement"] > 0.99  # both sides found the same pairs
    assert "xstilts benchmarks (tiny)" in done.stdout  # the table


def test_unknown_benchmark_is_refused() -> None:
    done = _run(str(BENCHMARKS / "run.py"), "--tiny", "--only", "nope")
    assert done.returncode != 0 and "unknown benchmark 'nope'" in done.stderr


def test_result_ratio_and_met() -> None:
    faster = Result("t", value=2.0, baseline_value=7.0, unit="s", better="lower",
                    target=">= 3.0", notes="n")
    assert faster.ratio == pytest.approx(3.5) and faster.met is True
    slower = Result("x", value=10.0, baseline_value=5.0, unit="examples/s", better="higher",
                    target=">= 3.0", notes="n")
    assert slower.ratio == pytest.approx(2.0) and slower.met is False
    assert Result("y", 1.0, 1.0, "s", "lower", "<= 0.1", "n").met is False
    gone = skipped("g", "% MFU", "higher", ">= 1.0", "no GPU")
    assert gone.to_json()["met"] is None and gone.to_json()["ratio"] is None
    with pytest.raises(ValueError):
        parse_target("at least 3")


def test_gpu_script_without_cuda_exits_zero(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the no-GPU path does not apply")
    out = tmp_path / "gpu.json"
    done = _run(str(BENCHMARKS / "gpu.py"), "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "No GPU present" in done.stdout
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["skipped"] and record["results"] == []


def test_gpu_script_measures_on_any_device(tmp_path: Path) -> None:
    """The measuring code path, on the CPU with tiny shapes (hidden options)."""
    out = tmp_path / "gpu.json"
    done = _run(str(BENCHMARKS / "gpu.py"), "--device", "cpu", "--small", "--models",
                "xlmr-large,mt5-large", "--seq-lens", "16", "--batch-size", "2",
                "--warmup", "1", "--steps", "1", "--peak-tflops", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert [(r["model"], r["seq_len"]) for r in results] == [("xlmr-large", 16),
                                                             ("mt5-large", 16)]
    for row in results:
        assert row["tokens_per_s"] > 0 and row["non_embedding_params"] > 0
        assert row["mfu"] == pytest.approx(
            6 * row["non_embedding_params"] * row["tokens_per_s"] / 1e12)
        assert row["mfu_with_attention"] > row["mfu"]
