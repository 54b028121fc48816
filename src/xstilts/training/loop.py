"""The training loop shared by intermediate and target training.

One optimizer step = one task (sampled for multi-task training, as jiant does) and
``grad_accumulation`` micro-batches of it. Validation on the English dev set every
``eval_every`` steps keeps the best state; ``patience`` validations without improvement stop
training early. Everything random is seeded, so the same config, seed and data give the same
weights on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from transformers import get_linear_schedule_with_warmup

from xstilts.models.device import autocast, model_device, to
from xstilts.training.recipes import Recipe
from xstilts.training.sampler import TaskSampler


@dataclass
class TaskData:
    """Encoded training examples of one task (first dimension = examples)."""

    head: str
    features: dict[str, torch.Tensor]

    @property
    def size(self) -> int:
        return next(iter(self.features.values())).shape[0]


@dataclass
class LoopResult:
    steps: int
    best_step: int
    best_score: float
    stopped_early: bool
    seconds: float
    history: list[dict] = field(default_factory=list)


def batches(data: TaskData, batch_size: int, generator: torch.Generator
            ) -> Iterator[dict[str, torch.Tensor]]:
    """Endless shuffled epochs of one task's examples."""
    while True:
        order = torch.randperm(data.size, generator=generator)
        for start in range(0, data.size, batch_size):
            index = order[start:start + batch_size]
            yield {name: tensor[index] for name, tensor in data.features.items()}


def total_steps(sizes: list[int], recipe: Recipe, max_steps: int | None) -> int:
    """Optimizer steps for the recipe's epochs over all tasks, capped by the budget."""
    per_step = recipe.batch_size * recipe.grad_accumulation
    steps = max(1, math.ceil(recipe.epochs * sum(sizes) / per_step))
    return min(steps, max_steps) if max_steps else steps


def _optimizer(model: torch.nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        plain = name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name
        (no_decay if plain else decay).append(parameter)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": recipe.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=recipe.learning_rate, eps=recipe.adam_epsilon)


def train_loop(model: torch.nn.Module, tasks: dict[str, TaskData], recipe: Recipe,
               steps: int, validate: Callable[[], float], seed: int,
               sampler: TaskSampler | None = None,
               on_step: Callable[[int, float], None] | None = None) -> LoopResult:
    """Train ``model`` (a MultiTaskModel) and leave it in its best validated state."""
    started = time.perf_counter()
    torch.manual_seed(seed)
    streams = {}
    for offset, (name, data) in enumerate(sorted(tasks.items())):
        generator = torch.Generator().manual_seed(seed * 1000 + offset)
        streams[name] = batches(data, recipe.batch_size, generator)
    only = next(iter(tasks)) if len(tasks) == 1 else None
    optimizer = _optimizer(model, recipe)
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(recipe.warmup_proportion * steps), steps)
    on = model_device(model)
    best_score, best_step, best_state, waited = -math.inf, 0, None, 0
    history: list[dict] = []
    step, stopped_early = 0, False
    for step in range(1, steps + 1):
        model.train()
        name = only or sampler.sample()  # type: ignore[union-attr]
        loss_sum = 0.0
        for _ in range(recipe.grad_accumulation):
            with autocast(on):
                output = model(tasks[name].head, to(next(streams[name]), on))
            (output.loss / recipe.grad_accumulation).backward()
            loss_sum += float(output.loss.detach())
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if on_step is not None:
            on_step(step, loss_sum / recipe.grad_accumulation)
        if step % recipe.eval_every == 0 or step == steps:
            score = validate()
            history.append({"step": step, "task": name, "dev_score": score,
                            "loss": loss_sum / recipe.grad_accumulation})
            if score > best_score:
                best_score, best_step, waited = score, step, 0
                best_state = {k: v.detach().to("cpu", copy=True)
                              for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= recipe.patience:
                    stopped_early = True
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return LoopResult(steps=step, best_step=best_step, best_score=best_score,
                      stopped_early=stopped_early, seconds=time.perf_counter() - started,
                      history=history)
