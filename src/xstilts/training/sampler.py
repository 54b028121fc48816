"""Which task to train on next, when several intermediate tasks are trained together.

Mixtures of tasks with very different sizes need the size effect tempered: ``cap`` limits
the count a task is weighed with and ``temperature`` flattens the distribution
(T = 1: proportional, T → ∞: uniform). The sampler has its own seeded generator, so a run
draws the same task sequence every time and does not disturb other random state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from xstilts.errors import UserError

Method = Literal["proportional", "temperature", "uniform"]
METHODS: tuple[str, ...] = ("proportional", "temperature", "uniform")


def task_probabilities(
    sizes: Mapping[str, int],
    method: Method,
    temperature: float = 1.0,
    cap: int | None = None,
) -> dict[str, float]:
    """Sampling probability per task, in ``sizes`` order.

    proportional: p ∝ min(n, cap); temperature: p ∝ min(n, cap) ** (1 / T); uniform: 1 / K.
    Computed in log space, so large sizes with a small T do not overflow.
    """
    _validate(sizes, method, temperature, cap)
    names = list(sizes)
    if method == "uniform":
        return {name: 1.0 / len(names) for name in names}
    counts = np.array([sizes[name] if cap is None else min(sizes[name], cap) for name in names],
                      dtype=np.float64)
    exponent = 1.0 if method == "proportional" else 1.0 / temperature
    logits = np.log(counts) * exponent
    weights = np.exp(logits - logits.max())
    probabilities = weights / weights.sum()
    return {name: float(p) for name, p in zip(names, probabilities)}


def _validate(sizes: Mapping[str, int], method: str, temperature: float, cap: int | None
              ) -> None:
    if method not in METHODS:
        raise UserError(f"unknown sampling method {method!r}; choose one of {', '.join(METHODS)}")
    if not sizes:
        raise UserError("no tasks to sample from")
    empty = [name for name, size in sizes.items() if size <= 0]
    if empty:
        raise UserError(f"tasks without training examples: {', '.join(empty)}")
    if method == "temperature" and not temperature > 0:
        raise UserError(f"sampling temperature must be positive, not {temperature}")
    if cap is not None and cap <= 0:
        raise UserError(f"sampling cap must be positive, not {cap}")


class TaskSampler:
    """Draws the next task to train on from ``task_probabilities``, reproducibly per seed."""

    def __init__(
        self,
        sizes: Mapping[str, int],
        method: Method = "proportional",
        temperature: float = 1.0,
        cap: int | None = None,
        seed: int = 0,
    ) -> None:
        self.probabilities = task_probabilities(sizes, method, temperature, cap)
        self.tasks = list(self.probabilities)
        self._p = np.array([self.probabilities[name] for name in self.tasks])
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def sample(self) -> str:
        """The next task name."""
        return self.tasks[int(self._rng.choice(len(self.tasks), p=self._p))]

    def state_dict(self) -> dict[str, Any]:
        """The generator state, to resume the same sequence from a checkpoint."""
        return {"bit_generator": self._rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state["bit_generator"]
