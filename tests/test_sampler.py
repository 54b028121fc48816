"""Multi-task sampling: probabilities, empirical frequencies and reproducibility."""

from __future__ import annotations

from collections import Counter

import pytest

from xstilts.errors import UserError
from xstilts.training.sampler import TaskSampler, task_probabilities

SIZES = {"mnli": 392_702, "squad": 87_599, "hellaswag": 39_905, "commonsenseqa": 9_741}


def test_probabilities_by_method():
    proportional = task_probabilities(SIZES, "proportional")
    total = sum(SIZES.values())
    assert proportional == pytest.approx({name: n / total for name, n in SIZES.items()})
    capped = task_probabilities(SIZES, "proportional", cap=50_000)
    capped_total = 50_000 * 2 + 39_905 + 9_741
    assert capped["mnli"] == pytest.approx(50_000 / capped_total)
    assert capped["mnli"] == capped["squad"]
    tempered = task_probabilities(SIZES, "temperature", temperature=2.0, cap=100_000)
    weights = {name: min(n, 100_000) ** 0.5 for name, n in SIZES.items()}
    assert tempered == pytest.approx({k: w / sum(weights.values()) for k, w in weights.items()})
    assert task_probabilities(SIZES, "uniform") == {name: 0.25 for name in SIZES}
    assert list(tempered) == list(SIZES)


def test_large_temperature_approaches_uniform_and_small_does_not_overflow():
    hot = task_probabilities(SIZES, "temperature", temperature=1e6)
    assert all(abs(p - 0.25) < 1e-4 for p in hot.values())
    cold = task_probabilities(SIZES, "temperature", temperature=0.001)
    assert cold["mnli"] == pytest.approx(1.0)
    assert task_probabilities(SIZES, "temperature", temperature=1.0) == pytest.approx(
        task_probabilities(SIZES, "proportional"))


@pytest.mark.parametrize(("method", "temperature", "cap"), [
    ("proportional", 1.0, None), ("proportional", 1.0, 60_000), ("temperature", 2.0, 100_000),
    ("temperature", 5.0, None), ("uniform", 1.0, None),
])
def test_empirical_frequencies_match(method, temperature, cap):
    sampler = TaskSampler(SIZES, method, temperature, cap, seed=7)
    counts = Counter(sampler.sample() for _ in range(20_000))
    expected = task_probabilities(SIZES, method, temperature, cap)
    for name, p in expected.items():
        assert abs(counts[name] / 20_000 - p) < 0.01


def test_same_seed_same_sequence_and_resume():
    first = TaskSampler(SIZES, "temperature", 2.0, seed=3)
    second = TaskSampler(SIZES, "temperature", 2.0, seed=3)
    other = TaskSampler(SIZES, "temperature", 2.0, seed=4)
    a = [first.sample() for _ in range(200)]
    assert a == [second.sample() for _ in range(200)]
    assert a != [other.sample() for _ in range(200)]
    state = first.state_dict()
    expected = [first.sample() for _ in range(50)]
    resumed = TaskSampler(SIZES, "temperature", 2.0, seed=99)
    resumed.load_state_dict(state)
    assert [resumed.sample() for _ in range(50)] == expected


def test_bad_settings():
    with pytest.raises(UserError, match="method"):
        task_probabilities(SIZES, "softmax")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="temperature"):
        task_probabilities(SIZES, "temperature", temperature=0)
    with pytest.raises(UserError, match="without training examples"):
        task_probabilities({"a": 3, "b": 0}, "uniform")
    with pytest.raises(UserError):
        task_probabilities({}, "uniform")
