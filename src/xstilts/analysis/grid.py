"""The study grid a report covers: which architectures, intermediate settings, targets,
seeds and languages the config asks for, in a fixed order, so that a missing cell shows
up as missing rather than as an absent row; and the task groups gains are averaged over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from xstilts.study import NONE, trains_target, training_of
from xstilts.tasks.catalogue import CATALOGUE
from xstilts.tasks.languages import GROUP2TASK

# The scorer's groups (xstilts.tasks.languages.GROUP2TASK) of both benchmarks, merged, under
# readable names. The scorer leaves LAReQA out of every group because it does not score it;
# the XTREME-R paper counts it as a retrieval task, and so does this report.
_GROUP_NAMES = {"classification": "classification", "tagging": "structured prediction",
                "qa": "question answering", "retrieval": "retrieval"}


def _task_groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, dict[str, None]] = {name: {} for name in _GROUP_NAMES.values()}
    for benchmark in GROUP2TASK.values():
        for group, tasks in benchmark.items():
            if group in _GROUP_NAMES:
                groups[_GROUP_NAMES[group]].update(dict.fromkeys(tasks))
    groups["retrieval"]["lareqa"] = None
    return {name: tuple(tasks) for name, tasks in groups.items()}


TASK_GROUPS: dict[str, tuple[str, ...]] = _task_groups()
GROUP_OF: dict[str, str] = {task: group for group, tasks in TASK_GROUPS.items()
                            for task in tasks}
ALL = "(all)"  # the label of an average over every setting, target or group


def _ordered(wanted: Iterable, seen: Iterable) -> tuple:
    """``wanted`` in its order, then anything else ``seen``, sorted."""
    wanted = list(dict.fromkeys(wanted))
    extra = sorted(set(seen) - set(wanted), key=str)
    return tuple(wanted + extra)


@dataclass(frozen=True)
class Grid:
    """The cells a report covers, in report order."""

    architectures: tuple[str, ...]
    intermediates: tuple[str, ...]  # NONE (the baseline) first
    targets: tuple[str, ...]
    seeds: tuple[int, ...]
    languages: dict[str, tuple[str, ...]]  # per target, sorted

    @property
    def settings(self) -> tuple[str, ...]:
        """The intermediate settings compared with the baseline."""
        return tuple(i for i in self.intermediates if i != NONE)

    @classmethod
    def of(cls, config, scores: pd.DataFrame) -> Grid:
        """The config's grid, extended by whatever else the scores hold (never narrowed):
        every target expects the languages the evaluation stage scores for it."""
        targets = [t.name for t in config.target_tasks()]
        seen_targets = set(scores["target"]) - set(targets)
        catalogue_order = [t for t in CATALOGUE if t in seen_targets]
        targets = _ordered(targets + catalogue_order, seen_targets)
        intermediates = _ordered([NONE, *config.intermediate], scores["intermediate"])
        languages = {}
        for target in targets:
            seen = scores.loc[scores["target"] == target, "language"]
            known = CATALOGUE[target].all_languages() if target in CATALOGUE else ()
            languages[target] = tuple(sorted(set(known) | set(seen)))
        return cls(architectures=_ordered(config.architectures, scores["architecture"]),
                   intermediates=intermediates, targets=targets,
                   seeds=_ordered(config.seeds, (int(s) for s in scores["seed"])),
                   languages=languages)

    def rank(self, column: str) -> dict:
        """Position of each value of a key column in report order."""
        values = {"architecture": self.architectures, "intermediate": self.intermediates,
                  "target": self.targets, "seed": self.seeds, "group": tuple(TASK_GROUPS),
                  "architecture_a": self.architectures, "architecture_b": self.architectures,
                  }.get(column, ())
        ranks = {value: position for position, value in enumerate(values)}
        return {ALL: -1, **ranks} if ranks else ranks

    def sort(self, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        """Rows in report order by ``keys`` (languages and other columns alphabetically)."""
        keys = [k for k in keys if k in frame.columns]
        if frame.empty or not keys:
            return frame.reset_index(drop=True)

        def position(column: pd.Series) -> pd.Series:
            ranks = self.rank(str(column.name))
            if not ranks:
                return column
            return column.map(lambda v: ranks.get(v, len(ranks)))

        return frame.sort_values(keys, key=position, kind="stable").reset_index(drop=True)


def dev_sources(target: str) -> set[str]:
    """Targets whose trained model ``target`` is evaluated with (the English dev score of
    that model selects for ``target``): XQuAD's model also serves MLQA. Empty for targets
    without target training (BUCC, Tatoeba)."""
    task = CATALOGUE.get(target)
    if task is None or not trains_target(task) or not task.train_corpora:
        return set()
    return {name for name, other in CATALOGUE.items()
            if other.role == "target" and trains_target(other) and other.train_corpora
            and training_of(other) == training_of(task)}
