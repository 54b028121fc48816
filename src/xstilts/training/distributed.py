"""Data-parallel training inside one machine (one pod with N GPUs), through torchrun.

``run_stage`` starts ``torchrun --standalone --nproc_per_node N`` on this module; every process
runs the same training stage. The training loop (``train_loop``) then wraps the model in
DistributedDataParallel and gives each process its share of every batch: all processes
draw the same batch (same seeds) and process rows ``rank::world``, so the global batch,
the number of steps and the learning-rate schedule stay those of the recipe, whatever the
number of GPUs. Only the first process writes outputs (checkpoint, log, resume state).
NCCL is used on GPUs and gloo on the CPU (which is how the tests run it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from pydantic import BaseModel

from xstilts.models.registry import Architecture
from xstilts.tasks.catalogue import Task, get_task

STAGES = ("train_intermediate", "train_any_target")


def world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Whether this process writes the outputs (the only one, or rank 0)."""
    return world()[0] == 0


def shard(batch: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], float]:
    """This process's rows of a batch every process drew identically, and the weight of its
    loss: DDP averages gradients over processes, so a shard's mean loss is weighted by its
    share of the rows (× processes) to give the whole batch's mean when shards are uneven.
    A batch with fewer rows than processes is processed whole by each."""
    rank, size = world()
    rows = next(iter(batch.values())).shape[0]
    if size == 1 or rows < size:
        return batch, 1.0
    mine = {name: tensor[rank::size] for name, tensor in batch.items()}
    return mine, size * next(iter(mine.values())).shape[0] / rows


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model to train: DistributedDataParallel in a process group, else itself.

    A multi-task model uses one head per step, so unused parameters are expected."""
    if world()[1] == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    on = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[on.index] if on.type == "cuda" else None,
                                   find_unused_parameters=True)


def run_stage(stage: str, processes: int, **arguments: Any) -> None:
    """Run a training stage (a name in ``STAGES``, with that function's keyword arguments)
    in this process, or data-parallel in ``processes`` torchrun processes."""
    from xstilts.training import stages

    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if processes <= 1:
        getattr(stages, stage)(**arguments)
        return
    arguments.pop("progress", None)  # a callback cannot cross processes
    payload = json.dumps({"stage": stage, "arguments": _encode(arguments)})
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", "-m", "xstilts.training.distributed", payload]
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"data-parallel {stage} failed in one of its {processes} "
                           f"processes (exit {result.returncode}); see the log above")


def _encode(arguments: dict[str, Any]) -> dict[str, Any]:
    """JSON form of a training stage's arguments (tasks by name, models as dicts)."""
    encoded: dict[str, Any] = {}
    for name, value in arguments.items():
        if isinstance(value, Architecture):
            value = dataclasses.asdict(value)
        elif isinstance(value, Task):
            value = value.name
        elif isinstance(value, list) and value and isinstance(value[0], Task):
            value = [task.name for task in value]
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        encoded[name] = value
    return encoded


def _decode(arguments: dict[str, Any]) -> dict[str, Any]:
    """The stage's arguments back from ``_encode``'s JSON form."""
    from xstilts.study import Budget, Sampling

    paths = ("init", "data_dir", "out", "resume_dir")
    decoded = dict(arguments)
    decoded["arch"] = Architecture(**arguments["arch"])
    decoded["budget"] = Budget.model_validate(arguments["budget"])
    if "sampling" in arguments:
        decoded["sampling"] = Sampling.model_validate(arguments["sampling"])
    if "tasks" in arguments:
        decoded["tasks"] = [get_task(name) for name in arguments["tasks"]]
    if "task" in arguments:
        decoded["task"] = get_task(arguments["task"])
    for name in paths:
        if arguments.get(name) is not None:
            decoded[name] = Path(arguments[name])
    return decoded


def _run(payload: str) -> None:
    """Body of each torchrun process: join the group, run the stage, leave."""
    from xstilts.training import stages

    request = json.loads(payload)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    try:
        getattr(stages, request["stage"])(**_decode(request["arguments"]))
        dist.barrier()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: torchrun ... -m xstilts.training.distributed PAYLOAD")
    _run(sys.argv[1])
