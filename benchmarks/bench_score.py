"""Time ``score_submission`` on a full-size generated XTREME submission.

    python benchmarks/bench_score.py
    XTREME_REPO=/path/to/google-research/xtreme python benchmarks/bench_score.py

With ``XTREME_REPO`` set to a checkout of google-research/xtreme, the official
``evaluate.py --xtreme_version xtreme`` also runs on the same folders, with this Python.
The script then checks that every value matches within 1e-6 and prints both timings.
It exits with 1 on any mismatch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Let the script run from a source checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xstilts.evaluation import score_submission  # noqa: E402
from xstilts.evaluation.fake_submission import write_fake_submission  # noqa: E402

TOLERANCE = 1e-6
REPEATS = 3


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest wall time of ``repeats`` runs, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_official(repo: Path, predictions: Path, labels: Path, output: Path) -> float:
    """Run the official scorer in a subprocess; return its wall time (startup included)."""
    command = [
        sys.executable, "evaluate.py",
        "--prediction_folder", str(predictions),
        "--label_folder", str(labels),
        "--xtreme_version", "xtreme",
        "--output_file", str(output),
    ]
    # The official readers use the locale encoding; the generated files are UTF-8.
    env = {**os.environ, "PYTHONUTF8": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"official evaluate.py failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def differences(ours: Any, official: Any, path: str = "") -> list[str]:
    """Every key or value where the two score trees differ by more than TOLERANCE."""
    if isinstance(ours, dict) and isinstance(official, dict):
        found = [f"{path}/{key}: missing in ours" for key in official.keys() - ours.keys()]
        found += [f"{path}/{key}: missing in official" for key in ours.keys() - official.keys()]
        for key in ours.keys() & official.keys():
            found += differences(ours[key], official[key], f"{path}/{key}")
        return found
    if isinstance(ours, (int, float)) and isinstance(official, (int, float)):
        return [] if abs(ours - official) <= TOLERANCE else [f"{path}: {ours} != {official}"]
    return [f"{path}: {ours!r} != {official!r}"]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("generating a full-size XTREME submission ...", flush=True)
        predictions, labels = write_fake_submission(root / "submission")
        ours_time, ours = best_of(
            REPEATS, lambda: score_submission("xtreme", predictions, labels)
        )
        print(f"xstilts score_submission: {ours_time:.2f} s (best of {REPEATS}, in process)")
        repo = os.environ.get("XTREME_REPO")
        if not repo:
            print("comparison with the official scorer skipped: XTREME_REPO is not set "
                  "(point it at a google-research/xtreme checkout)")
            return 0
        if not (Path(repo) / "evaluate.py").is_file():
            print(f"comparison skipped: {repo} has no evaluate.py")
            return 2
        output = root / "official.json"
        official_time = run_official(Path(repo), predictions, labels, output)
        official = json.loads(output.read_text(encoding="utf-8"))
        mismatches = differences(ours, official)
        print(f"official evaluate.py: {official_time:.2f} s (one run, process startup included)")
        print(f"speed ratio: {official_time / ours_time:.1f}x")
        if mismatches:
            print(f"{len(mismatches)} values differ:", *mismatches[:20], sep="\n  ")
            return 1
        print(f"all values match the official scorer within {TOLERANCE}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
