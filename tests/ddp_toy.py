"""Run by torchrun from test_distributed: train the dropout-free toy model of test_resume
data-parallel (gloo) and save the weights from the first process."""

import sys

import torch
import torch.distributed as dist

from test_resume import run

if __name__ == "__main__":
    dist.init_process_group("gloo")
    try:
        model, result = run(None, dropout=0.0)
        if dist.get_rank() == 0:
            torch.save({"state": model.state_dict(), "history": result.history}, sys.argv[1])
    finally:
        dist.destroy_process_group()
