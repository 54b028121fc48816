"""Which device models run on: CUDA when present (bf16 autocast), else the CPU.

``XSTILTS_DEVICE`` (cpu, cuda, cuda:1, ...) overrides the choice; on Kubernetes the pod's
GPU request decides what is visible.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from xstilts.errors import UserError


def device() -> torch.device:
    """The device named by XSTILTS_DEVICE, else CUDA when available (this process's GPU
    under torchrun), else the CPU."""
    wanted = os.environ.get("XSTILTS_DEVICE", "").strip()
    if wanted:
        chosen = torch.device(wanted)
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise UserError(f"XSTILTS_DEVICE={wanted} but no CUDA device is available")
        return chosen
    if torch.cuda.is_available():
        # one GPU per process under torchrun (LOCAL_RANK), else the first
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@contextlib.contextmanager
def autocast(on: torch.device) -> Iterator[None]:
    """bf16 autocast on CUDA (not fp16: mT5 overflows in fp16); exact fp32 on the CPU."""
    if on.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def to(batch: dict[str, torch.Tensor], on: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(on, non_blocking=True) for k, v in batch.items()}
