"""The training loop shared by intermediate and target training.

One optimizer step = one task (sampled for multi-task training, as jiant does) and
``grad_accumulation`` micro-batches of it. Validation on the English dev set every
``eval_every`` steps keeps the best state; ``patience`` validations without improvement stop
training early. Everything random is seeded, so the same config, seed and data give the same
weights on CPU.

With a ``resume_dir`` the loop saves its whole state (weights, optimizer, schedule, every
random stream, the best state so far) there at each validation, and a loop started again
with the same folder continues from the last saved step: a pod preempted mid-training and
retried resumes instead of starting over, and ends with the same weights as an
uninterrupted run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import get_linear_schedule_with_warmup

from xstilts.models.device import autocast, model_device, to
from xstilts.monitoring.metrics import StageMetrics, training_metrics
from xstilts.training.features import example_lengths, trim
from xstilts.training.distributed import is_main, shard, wrap
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
    resumed_from: int | None = None  # the step of the saved state it continued from


GROUP_BATCHES = 50  # length grouping sorts windows of this many batches


class BatchStream:
    """Endless shuffled epochs of one task's examples, with a state that can be saved.

    With ``group_by_length`` each epoch is cut into windows of GROUP_BATCHES batches whose
    examples are sorted by length before batching (then batch order is shuffled, the
    longest batch first so that memory trouble shows at once), which, with ``trim``,
    keeps padding small: the Hugging Face ``group_by_length`` idea."""

    def __init__(self, data: TaskData, batch_size: int, generator: torch.Generator,
                 group_by_length: bool = True) -> None:
        self.data, self.batch_size, self.generator = data, batch_size, generator
        self.lengths = example_lengths(data.features) if group_by_length else None
        self.batches: list[torch.Tensor] = []
        self.position = 0

    def _epoch(self) -> list[torch.Tensor]:
        order = torch.randperm(self.data.size, generator=self.generator)
        if self.lengths is None:
            return list(order.split(self.batch_size))
        window = self.batch_size * GROUP_BATCHES
        batches: list[torch.Tensor] = []
        for chunk in order.split(window):
            ranked = chunk[torch.argsort(-self.lengths[chunk], stable=True)]
            batches.extend(ranked.split(self.batch_size))
        longest = max(range(len(batches)), key=lambda i: int(self.lengths[batches[i]].max()))
        rest = [b for i, b in enumerate(batches) if i != longest]
        shuffled = torch.randperm(len(rest), generator=self.generator).tolist()
        return [batches[longest], *(rest[i] for i in shuffled)]

    def __next__(self) -> dict[str, torch.Tensor]:
        if self.position >= len(self.batches):
            self.batches, self.position = self._epoch(), 0
        index = self.batches[self.position]
        self.position += 1
        return trim({name: tensor[index] for name, tensor in self.data.features.items()})

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "batches": self.batches,
                "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.batches, self.position = state["batches"], state["position"]


RESUME_FILE = "resume.pt"
PREVIOUS_FILE = "resume.previous.pt"  # the state before the last one, kept as a fallback
log = logging.getLogger(__name__)


def _save_resume(folder: Path, state: dict[str, Any]) -> None:
    """Write the loop state atomically, keeping the previous one: a crash while saving, or
    a file damaged later on the volume, still leaves a complete state to resume from."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{RESUME_FILE}.tmp"
    torch.save(state, staged)
    with open(staged, "rb") as handle:  # on disk before it replaces anything
        os.fsync(handle.fileno())
    if (folder / RESUME_FILE).is_file():
        os.replace(folder / RESUME_FILE, folder / PREVIOUS_FILE)
    os.replace(staged, folder / RESUME_FILE)


def _load_resume(folder: Path | None, steps: int, seed: int) -> dict[str, Any] | None:
    """The newest complete saved loop state for this run (same step budget and seed): a
    truncated or unreadable file is skipped, with a warning, for the one before it."""
    if folder is None:
        return None
    for name in (RESUME_FILE, PREVIOUS_FILE):
        path = folder / name
        if not path.is_file():
            continue
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001 - any damage means: not this one
            log.warning("resume state %s is damaged (%s: %s); trying the previous one",
                        path, type(exc).__name__, str(exc)[:120])
            continue
        if isinstance(state, dict) and state.get("steps") == steps and \
                state.get("seed") == seed:
            return state
    return None


def total_steps(sizes: list[int], recipe: Recipe, max_steps: int | None) -> int:
    """Optimizer steps for the recipe's epochs over all tasks, capped by the budget."""
    per_step = recipe.batch_size * recipe.grad_accumulation
    steps = max(1, math.ceil(recipe.epochs * sum(sizes) / per_step))
    return min(steps, max_steps) if max_steps else steps


def _optimizer(model: torch.nn.Module, recipe: Recipe, on: torch.device
               ) -> torch.optim.Optimizer:
    """AdamW without weight decay on biases and layer norms, with the fused kernel (one
    kernel for all parameters; on the CPU too, where the loop over tensors otherwise costs
    about a tenth of a tiny model's step)."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        plain = name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name
        (no_decay if plain else decay).append(parameter)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": recipe.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=recipe.learning_rate, eps=recipe.adam_epsilon, fused=on.type in ("cuda", "cpu"))


def accelerate(model: torch.nn.Module) -> torch.nn.Module:
    """Optional speed-ups, off by default because they trade memory or start-up time:
    ``XSTILTS_GRADIENT_CHECKPOINTING=1`` recomputes activations in the backward pass
    (larger batches on a GPU), ``XSTILTS_COMPILE=1`` runs the model through torch.compile.
    Neither changes the math, so neither is part of a stage's key."""
    if os.environ.get("XSTILTS_GRADIENT_CHECKPOINTING") == "1":
        for module in model.modules():  # the transformers backbone(s)
            if hasattr(module, "gradient_checkpointing_enable") and \
                    getattr(module, "supports_gradient_checkpointing", False):
                module.gradient_checkpointing_enable(
                    gradient_checkpointing_kwargs={"use_reentrant": False})
    if os.environ.get("XSTILTS_COMPILE") == "1":
        return torch.compile(model, dynamic=True)  # type: ignore[return-value]
    return model


@dataclass(frozen=True)
class StepReport:
    """What one optimizer step did, for progress bars and metrics."""

    step: int
    loss: float
    learning_rate: float
    examples: int  # rows of the step's batches (all processes)
    tokens: int  # real, non-padding tokens of those rows
    seconds: float


def _batch_size(batch: dict[str, torch.Tensor]) -> tuple[int, int]:
    """(rows, real tokens) of a batch, before it is split between processes: the tokens
    under every attention mask (a dual encoder's query and candidate masks alike)."""
    rows = int(next(iter(batch.values())).shape[0])
    return rows, sum(int(v.sum()) for k, v in batch.items() if k.endswith("attention_mask"))


def reporter(progress: Callable[[int, int], None] | None, metrics: StageMetrics | None, offset: int,
             total: int) -> Callable[[StepReport], None]:
    """A train_loop step callback: overall progress (phases add up) and the stage's
    training metrics."""
    def report(step: StepReport) -> None:
        if progress is not None:
            progress(offset + step.step, total)
        if metrics is not None:
            metrics.train_step(offset + step.step, step.loss, step.learning_rate,
                               step.examples, step.tokens, step.seconds, total)
    return report


def stage_metrics(monitor: dict | None) -> StageMetrics | None:
    """Training metrics for the first process only (the others train the same steps)."""
    return training_metrics(monitor) if is_main() else None


def close_metrics(metrics: StageMetrics | None) -> None:
    if metrics is not None:
        metrics.write()
        metrics.push()


def train_loop(model: torch.nn.Module, tasks: dict[str, TaskData], recipe: Recipe,
               steps: int, validate: Callable[[], float], seed: int,
               sampler: TaskSampler | None = None,
               on_step: Callable[[StepReport], None] | None = None,
               resume_dir: Path | None = None) -> LoopResult:
    """Train ``model`` (a MultiTaskModel) and leave it in its best validated state.

    In a torchrun process group the model trains data-parallel (``distributed``): every
    process computes its share of each batch and DDP averages the gradients; validation
    runs in every process on the same weights, so all take the same decisions."""
    started = time.perf_counter()
    torch.manual_seed(seed)
    streams = {}
    for offset, (name, data) in enumerate(sorted(tasks.items())):
        generator = torch.Generator().manual_seed(seed * 1000 + offset)
        streams[name] = BatchStream(data, recipe.batch_size, generator)
    only = next(iter(tasks)) if len(tasks) == 1 else None
    on = model_device(model)
    optimizer = _optimizer(model, recipe, on)
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(recipe.warmup_proportion * steps), steps)
    trained = wrap(accelerate(model))
    best_score, best_step, best_state, waited = -math.inf, 0, None, 0
    history: list[dict] = []
    step, stopped_early, first = 0, False, 1
    saved = _load_resume(resume_dir, steps, seed)
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        for name, stream in streams.items():
            stream.load_state_dict(saved["streams"][name])
        if sampler is not None:
            sampler.load_state_dict(saved["sampler"])
        torch.set_rng_state(saved["torch_rng"])
        if saved.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(saved["cuda_rng"])
        best_score, best_step, best_state = saved["best_score"], saved["best_step"], \
            saved["best_state"]
        waited, history, first = saved["waited"], saved["history"], saved["step"] + 1
        log.info("resuming from the state saved at step %d of %d", saved["step"], steps)
    for step in range(first, steps + 1):
        model.train()
        began = time.perf_counter()
        name = only or sampler.sample()  # type: ignore[union-attr]
        loss_sum, rows, tokens = 0.0, 0, 0
        for micro in range(recipe.grad_accumulation):
            whole = next(streams[name])
            size = _batch_size(whole)
            rows, tokens = rows + size[0], tokens + size[1]
            batch, weight = shard(whole)
            # data-parallel: average gradients across processes once per step, not per
            # micro-batch
            last = micro == recipe.grad_accumulation - 1
            with (contextlib.nullcontext() if last or trained is model
                  else trained.no_sync()):
                with autocast(on):
                    output = trained(tasks[name].head, to(batch, on))
                (output.loss * weight / recipe.grad_accumulation).backward()
            loss_sum += float(output.loss.detach())
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
        learning_rate = float(optimizer.param_groups[0]["lr"])  # the rate this step used
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if on_step is not None:
            on_step(StepReport(step=step, loss=loss_sum / recipe.grad_accumulation,
                               learning_rate=learning_rate, examples=rows,
                               tokens=tokens, seconds=time.perf_counter() - began))
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
            if resume_dir is not None and step < steps and is_main():
                _save_resume(resume_dir, {
                    "steps": steps, "seed": seed, "step": step,
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "streams": {n: s.state_dict() for n, s in streams.items()},
                    "sampler": sampler.state_dict() if sampler is not None else None,
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all()
                    if torch.cuda.is_available() else None,
                    "best_score": best_score, "best_step": best_step,
                    "best_state": best_state, "waited": waited, "history": history})
    if best_state is not None:
        model.load_state_dict(best_state)
    if resume_dir is not None and is_main():
        for name in (RESUME_FILE, PREVIOUS_FILE):  # done: nothing to resume
            (resume_dir / name).unlink(missing_ok=True)
    model.eval()
    return LoopResult(steps=step, best_step=best_step, best_score=best_score,
                      stopped_early=stopped_early, seconds=time.perf_counter() - started,
                      history=history, resumed_from=saved["step"] if saved else None)
