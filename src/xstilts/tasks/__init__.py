"""The task catalogue: which tasks exist, their languages, labels, metrics and sources."""

from xstilts.tasks.catalogue import (
    BENCHMARKS,
    CATALOGUE,
    Task,
    get_task,
    list_tasks,
    resolve_tasks,
)

__all__ = ["BENCHMARKS", "CATALOGUE", "Task", "get_task", "list_tasks", "resolve_tasks"]
