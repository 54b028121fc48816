"""Data-parallel training in one machine (torchrun, gloo on the CPU): the gradient of the
sharded batch is the full batch's, and a study stage configured for N GPUs trains in N
processes with one writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from test_resume import run
from xstilts.runner import run_study
from xstilts.study import StudyConfig, plan

HERE = Path(__file__).resolve().parent


def torchrun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", *args], capture_output=True, text=True,
                          check=False, cwd=HERE, env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_two_processes_train_the_same_weights_as_one(tmp_path: Path) -> None:
    single, expected = run(None, dropout=0.0)
    result = torchrun(str(HERE / "ddp_toy.py"), str(tmp_path / "ddp.pt"))
    assert result.returncode == 0, result.stderr[-2000:]
    saved = torch.load(tmp_path / "ddp.pt", weights_only=False)
    assert [h["step"] for h in saved["history"]] == [h["step"] for h in expected.history]
    for name, value in single.state_dict().items():
        assert torch.allclose(saved["state"][name], value, atol=1e-5), name


def test_stage_configured_for_two_gpus_trains_in_two_processes(tmp_path: Path) -> None:
    study = {"name": "ddp", "architectures": ["tiny-mbert"], "intermediate": ["none"],
             "targets": ["xnli"], "recipe": "smoke",
             "budget": {"max_steps": 3, "max_train_examples": 32, "max_eval_examples": 8},
             "data": {"out": str(tmp_path / "data")}}
    parallel = StudyConfig.model_validate({**study, "resources": {"tiny-mbert": {"gpus": 2}}})
    single = StudyConfig.model_validate(study)
    versions = {"tiny-mbert": "m"}
    keys = {s.key for s in plan(parallel, "d", "c", versions)}
    assert not keys & {s.key for s in plan(single, "d", "c", versions)}  # other shards
    summary = run_study(parallel, tmp_path / "run")
    (target,) = [t for t in summary["timings"] if t["stage"].startswith("target/")]
    assert target["status"] == "ran"
    stage = tmp_path / "run" / "stages" / "target" / target["key"]
    log = json.loads((stage / "training_log.json").read_text(encoding="utf-8"))
    assert log["results"][0]["steps"] == 3
    assert (stage / "model").is_dir()
    scores = summary["english_dev"]
    assert len(scores) == 1 and 0 <= scores[0]["dev_score"] <= 100
