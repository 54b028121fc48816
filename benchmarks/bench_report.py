"""Time the run report on a full architectures-sized grid of constructed scores.

    python benchmarks/bench_report.py

The grid is the size of configs/architectures.yaml and more: 5 architectures × 11
intermediate settings (none + 10) × the 10 XTREME-R targets × 3 seeds × every language each
target is evaluated in, with the metric rows the evaluation stage writes (constructed
numbers, see ``xstilts.analysis.constructed_grid``). The report is written with all its
tables, statistics and figures, as the pipeline's report stage writes it; the example
bootstrap has no predictions to read here. The target is 30 s on a 2-core machine; the
script prints the time and its ratio to the target, and exits with 1 when it is over.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

# Let the script run from a source checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xstilts.analysis.constructed_grid import (  # noqa: E402
    ARCHITECTURES,
    INTERMEDIATES,
    constructed_config,
    constructed_dev,
    constructed_rows,
)
from xstilts.analysis.report import write_report  # noqa: E402
from xstilts.analysis.results import gains_frame, scores_frame  # noqa: E402
from xstilts.tasks.languages import XTREME_R_TASK2LANGS  # noqa: E402

TARGET_SECONDS = 30.0
SEEDS = (0, 1, 2)


def main() -> int:
    targets = list(XTREME_R_TASK2LANGS)
    print(f"constructing {len(ARCHITECTURES)} architectures × {len(INTERMEDIATES)} "
          f"intermediate settings × {len(targets)} targets × {len(SEEDS)} seeds ...",
          flush=True)
    rows = constructed_rows(ARCHITECTURES, INTERMEDIATES, targets, SEEDS, noise=0.8)
    config = constructed_config(ARCHITECTURES, INTERMEDIATES, targets, SEEDS, name="bench")
    dev = constructed_dev(ARCHITECTURES, INTERMEDIATES, targets, SEEDS)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        scores = scores_frame(rows)
        gains = gains_frame(scores)
        tables = time.perf_counter()
        write_report(config, scores, gains, Path(tmp) / "report", synthetic=True, dev=dev,
                     data_version="constructed", code_version="bench")
        elapsed = time.perf_counter() - start
        cells = scores[scores["metric"] == "task_score"].shape[0]
        print(f"{len(scores)} score rows ({cells} per-language task scores)")
        print(f"scores and gains tables: {tables - start:.2f} s; report: "
              f"{elapsed - (tables - start):.2f} s")
        print(f"total: {elapsed:.2f} s = {elapsed / TARGET_SECONDS:.2f} × the "
              f"{TARGET_SECONDS:.0f} s target")
    return 0 if elapsed <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
