"""Resuming training after preemption: a loop killed mid-run and started again with the same
resume folder ends with exactly the weights, history and best step of an uninterrupted run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from xstilts.models.heads import ModelOutput
from xstilts.tasks.catalogue import get_task
from xstilts.training.loop import PREVIOUS_FILE, RESUME_FILE, StepReport, TaskData, train_loop
from xstilts.training.recipes import recipe_for
from xstilts.training.sampler import TaskSampler

STEPS = 10
RECIPE = recipe_for("smoke", get_task("xnli")).model_copy(
    update={"eval_every": 3, "batch_size": 4, "patience": 100})


class Preempted(Exception):
    pass


class Toy(torch.nn.Module):
    """Two heads over a shared layer, with dropout so that the random state matters."""

    def __init__(self, dropout: float = 0.3) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.shared = torch.nn.Linear(6, 8)
        self.dropout = torch.nn.Dropout(dropout)
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(8, 2), "b": torch.nn.Linear(8, 3)})

    def forward(self, head: str, batch: dict[str, torch.Tensor]) -> ModelOutput:
        logits = self.heads[head](self.dropout(torch.relu(self.shared(batch["x"]))))
        return ModelOutput(torch.nn.functional.cross_entropy(logits, batch["y"]), logits)


def tasks() -> dict[str, TaskData]:
    generator = torch.Generator().manual_seed(0)
    return {name: TaskData(head=name, features={
        "x": torch.randn(size, 6, generator=generator),
        "y": torch.randint(0, classes, (size,), generator=generator)})
        for name, size, classes in (("a", 18, 2), ("b", 11, 3))}


def run(resume: Path | None, stop_at: int | None = None, seed: int = 5, dropout: float = 0.3):
    model = Toy(dropout)
    data = tasks()
    probe = data["a"].features

    def validate() -> float:  # changes with the weights, so the best step is meaningful
        with torch.no_grad():
            return -float(model("a", probe).loss)

    def on_step(report: StepReport) -> None:
        if report.step == stop_at:
            raise Preempted

    sampler = TaskSampler({"a": 18, "b": 11}, "proportional", 2.0, None, seed)
    result = train_loop(model, data, RECIPE, STEPS, validate, seed, sampler, on_step, resume)
    return model, result


def test_resumed_training_equals_uninterrupted(tmp_path: Path) -> None:
    reference, expected = run(None)
    with pytest.raises(Preempted):
        run(tmp_path, stop_at=8)  # saved at steps 3 and 6, killed during step 8
    assert (tmp_path / RESUME_FILE).is_file()
    assert torch.load(tmp_path / RESUME_FILE, weights_only=False)["step"] == 6
    resumed, result = run(tmp_path)
    assert result.history == expected.history
    assert (result.best_step, result.best_score, result.steps) == \
        (expected.best_step, expected.best_score, expected.steps)
    for (name, a), (_, b) in zip(reference.state_dict().items(),
                                 resumed.state_dict().items()):
        assert torch.equal(a, b), name
    assert not (tmp_path / RESUME_FILE).exists()  # finished: nothing left to resume


def test_state_of_another_run_is_not_resumed(tmp_path: Path) -> None:
    with pytest.raises(Preempted):
        run(tmp_path, stop_at=8, seed=6)
    reference, expected = run(None)
    resumed, result = run(tmp_path)  # seed 5: the saved seed-6 state does not apply
    assert result.history == expected.history
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_truncated_state_falls_back_to_the_previous_one(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A resume file cut off mid-write (a full volume, a node lost while copying) is
    detected; training resumes from the complete state before it and still ends equal to
    an uninterrupted run."""
    reference, expected = run(None)
    with pytest.raises(Preempted):
        run(tmp_path, stop_at=8)
    newest = tmp_path / RESUME_FILE
    assert torch.load(tmp_path / PREVIOUS_FILE, weights_only=False)["step"] == 3
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    with caplog.at_level("WARNING", logger="xstilts.training.loop"):
        resumed, result = run(tmp_path)
    assert any("damaged" in r.getMessage() and RESUME_FILE in r.getMessage()
               for r in caplog.records)
    assert result.history == expected.history
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert not newest.exists() and not (tmp_path / PREVIOUS_FILE).exists()
