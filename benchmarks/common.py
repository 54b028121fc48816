"""What every benchmark shares: the result record, sizes per mode, memory helpers,
and one temporary folder with synthetic data and a tiny model, built once per run.

A result compares xstilts (``value``) with the baseline a user would otherwise use
(``baseline_value``), both measured in the same run. ``ratio`` is always "how many times
better xstilts is", so a ratio above 1 favours xstilts whatever the unit:

* ``better == "higher"`` (throughput): ``ratio = value / baseline_value``
* ``better == "lower"`` (seconds, memory): ``ratio = baseline_value / value``

``target`` is a condition on ``ratio`` (">= 3.0"); ``met`` is whether it holds, or None for a
benchmark that was skipped (no GPU, a missing optional package).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Let the benchmarks run from a source checkout without installing the package.
for _path in (REPO, REPO / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def quiet_environment() -> None:
    """Everything offline and quiet (this process and its children); call it before
    transformers or datasets are imported."""
    for name, value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"),
                        ("TOKENIZERS_PARALLELISM", "false"),
                        ("TRANSFORMERS_VERBOSITY", "error"),
                        ("HF_DATASETS_DISABLE_PROGRESS_BARS", "1"),
                        ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        os.environ.setdefault(name, value)


_TARGET = re.compile(r"^\s*(>=|<=|>|<)\s*([0-9]*\.?[0-9]+)\s*$")


# --------------------------------------------------------------------------- results

@dataclass
class Result:
    """One benchmark's outcome (see the module doc for ``ratio`` and ``target``)."""

    name: str
    value: float | None  # xstilts
    baseline_value: float | None  # the baseline, same unit
    unit: str
    better: str  # "higher" or "lower"
    target: str  # a condition on ratio, e.g. ">= 3.0"
    notes: str
    details: dict[str, Any] = field(default_factory=dict)  # raw measurements, sizes
    skipped: bool = False
    error: str | None = None

    def __post_init__(self) -> None:
        if self.better not in ("higher", "lower"):
            raise ValueError(f"better must be 'higher' or 'lower', not {self.better!r}")
        parse_target(self.target)

    @property
    def ratio(self) -> float | None:
        return ratio_of(self.value, self.baseline_value, self.better)

    @property
    def met(self) -> bool | None:
        if self.skipped:
            return None
        if self.error is not None or self.ratio is None:
            return False
        return target_met(self.target, self.ratio)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "baseline_value": self.baseline_value,
            "unit": self.unit,
            "ratio": self.ratio,
            "ratio_of": ("value / baseline_value" if self.better == "higher"
                         else "baseline_value / value"),
            "better": self.better,
            "target": self.target,
            "met": self.met,
            "skipped": self.skipped,
            "error": self.error,
            "notes": self.notes,
            "details": self.details,
        }


def skipped(name: str, unit: str, better: str, target: str, why: str,
            value: float | None = None, details: dict[str, Any] | None = None) -> Result:
    """A benchmark that could not run here (no GPU, a missing optional package); ``value``
    keeps the xstilts side's measurement where that side could still run."""
    return Result(name, value, None, unit, better, target, f"skipped: {why}",
                  details=details or {}, skipped=True)


def ratio_of(value: float | None, baseline: float | None, better: str) -> float | None:
    if value is None or baseline is None:
        return None
    top, bottom = (value, baseline) if better == "higher" else (baseline, value)
    if bottom == 0:
        return float("inf") if top > 0 else None
    return top / bottom


def parse_target(target: str) -> tuple[str, float]:
    match = _TARGET.match(target)
    if match is None:
        raise ValueError(f"a target is an operator and a number (\">= 3.0\"), not {target!r}")
    return match.group(1), float(match.group(2))


def target_met(target: str, ratio: float) -> bool:
    op, threshold = parse_target(target)
    return {">=": ratio >= threshold, "<=": ratio <= threshold,
            ">": ratio > threshold, "<": ratio < threshold}[op]


# --------------------------------------------------------------------------- sizes

@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is in one mode."""

    mode: str
    train_warmup: int  # optimizer steps before timing starts
    train_steps: int  # timed optimizer steps
    repeats: int  # measurements per side; the best counts
    eval_repeat: int  # each XNLI language's rows, repeated this many times
    eval_rows: int | None  # cap on rows per language before repeating (None: all)
    mining_n: int  # sentences per side
    mining_dim: int
    mining_chunk: int  # numpy baseline: query rows per block
    study: str  # "smoke" (configs/smoke.yaml) or "mini"
    gpu_steps: int  # timed steps per GPU configuration


SIZES = {
    "full": Sizes("full", train_warmup=5, train_steps=60, repeats=5, eval_repeat=8,
                  eval_rows=None, mining_n=100_000, mining_dim=768, mining_chunk=4096,
                  study="smoke", gpu_steps=20),
    "quick": Sizes("quick", train_warmup=3, train_steps=30, repeats=3, eval_repeat=2,
                   eval_rows=None, mining_n=20_000, mining_dim=768, mining_chunk=4096,
                   study="mini", gpu_steps=20),
    # for the harness's own test: seconds, not measurements
    "tiny": Sizes("tiny", train_warmup=1, train_steps=2, repeats=1, eval_repeat=1,
                  eval_rows=8, mining_n=3_000, mining_dim=64, mining_chunk=512,
                  study="mini", gpu_steps=2),
}


# --------------------------------------------------------------------------- measuring

def current_rss_mib() -> float:
    """This process's resident set size now (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its RSS now (Linux >= 4.0:
    ``/proc/self/clear_refs``); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """This process's peak resident set size: VmHWM of its address space (Linux), else
    ``ru_maxrss``. ``ru_maxrss`` alone will not do for a subprocess: Linux carries the
    parent's high-water mark over fork and exec, so a small child reports its big parent's
    peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except (OSError, ValueError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def quiet_libraries() -> None:
    """No progress bars or warnings from transformers / datasets in the benchmark output."""
    import warnings

    warnings.filterwarnings("ignore")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except ImportError:
        pass


def trainer_missing() -> str | None:
    """Why the Hugging Face ``Trainer`` cannot run here (it needs ``accelerate``), or None."""
    try:
        import accelerate  # noqa: F401
        import datasets  # noqa: F401
    except ImportError as error:
        return (f"the Hugging Face Trainer baseline needs {error.name} "
                f"(pip install 'accelerate>=1.1.0' datasets)")
    return None


# --------------------------------------------------------------------------- shared setup

NLI_LABELS = ("entailment", "neutral", "contradiction")
TINY_MODEL = "tiny-xlmr"


@dataclass
class Setup:
    """Synthetic MNLI + XNLI data and the tiny XLM-R built from it, in one temp folder."""

    data_dir: Path
    model_dir: Path
    family: str
    seconds: float

    def folder(self) -> Any:
        from xstilts.data.fetch import DataFolder

        return DataFolder(self.data_dir)


def build_setup(root: Path) -> Setup:
    from xstilts.data.fetch import fetch, units_for
    from xstilts.data.synthetic import SyntheticSource
    from xstilts.models.registry import resolve_architecture
    from xstilts.models.tiny import build_tiny

    started = time.perf_counter()
    data_dir = Path(root) / "data"
    with SyntheticSource() as source:
        fetch(units_for(["mnli", "xnli"]), source, data_dir, synthetic=True,
              origin="synthetic")
    build_tiny(data_dir, [TINY_MODEL])
    arch = resolve_architecture(TINY_MODEL, data_dir)
    return Setup(data_dir, Path(arch.model_id), arch.family, time.perf_counter() - started)


@dataclass
class Context:
    """One run of the benchmarks: its sizes, its temp folder, what benchmarks share."""

    sizes: Sizes
    root: Path
    threads: int
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def setup(self) -> Setup:
        if "setup" not in self.memo:
            self.memo["setup"] = build_setup(self.root)
        return self.memo["setup"]

    def temp(self, prefix: str) -> Path:
        """A fresh folder under the run's temp folder."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))


def nli_train_rows(setup: Setup, count: int) -> tuple[list[str], list[str], list[int]]:
    """``count`` synthetic English MNLI training rows (text_a, text_b, label ids), the 480
    rows of the table cycled as often as needed."""
    rows = setup.folder().rows("mnli", "en", "train")
    size = len(rows["text_a"])
    take = [i % size for i in range(count)]
    return ([rows["text_a"][i] for i in take], [rows["text_b"][i] for i in take],
            [NLI_LABELS.index(rows["label"][i]) for i in take])


def describe_threads(threads: int) -> str:
    return f"torch threads {threads} on both sides ({os.cpu_count()} CPUs here)"
