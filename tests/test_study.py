"""Study configs are validated with clear errors, and the plan trains each model once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from xstilts.errors import UserError
from xstilts.study import StudyConfig, load_study, plan

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = "name: t\narchitectures: [tiny-mbert]\nintermediate: [none]\ntargets: [xnli]\n"


@pytest.mark.parametrize("extra,fragments", [
    ("recipe: fast\n", ["recipe", "unknown recipe 'fast'", "jiant, xtreme, smoke"]),
    ("colour: red\n", ["colour", "unknown field", "architectures"]),
    ("budget: {max_step: 3}\n", ["budget.max_step", "max_steps"]),
    ("budget: {max_steps: 0}\n", ["budget.max_steps", "greater than 0"]),
    ("mixtures: {mix: [mnli, xnli]}\n", ["mixtures", "unknown member 'xnli'", "squad_v1"]),
    ("sampling: {method: random}\n", ["sampling.method", "proportional"]),
])
def test_config_errors_name_the_field_and_valid_values(tmp_path, extra, fragments) -> None:
    with pytest.raises(UserError) as info:
        load_study(write(tmp_path, BASE + extra))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_unknown_names_list_valid_values(tmp_path) -> None:
    with pytest.raises(UserError, match=r"targets.*unknown target 'xnl'.*xtreme-r"):
        load_study(write(tmp_path, BASE.replace("[xnli]", "[xnl]")))
    with pytest.raises(UserError, match=r"unknown setting 'mnlii'.*anli_plus"):
        load_study(write(tmp_path, BASE.replace("[none]", "[none, mnlii]")))
    with pytest.raises(UserError, match="does not exist"):
        load_study(tmp_path / "missing.yaml")
    with pytest.raises(UserError, match="not valid YAML"):
        load_study(write(tmp_path, "name: [\n"))


def test_shipped_configs_load() -> None:
    smoke = load_study(ROOT / "configs" / "smoke.yaml")
    assert [t.name for t in smoke.target_tasks()] == ["xnli", "panx", "xquad", "tatoeba"]
    paper = load_study(ROOT / "configs" / "paper.yaml")
    assert len(paper.intermediate) == 11 and len(paper.target_tasks()) == 9
    archs = load_study(ROOT / "configs" / "architectures.yaml")
    assert len(archs.target_tasks()) == 10 and archs.seeds == [0, 1, 2]


def grid(**kwargs) -> StudyConfig:
    values = {"name": "g", "architectures": ["a", "b"], "intermediate": ["none", "mnli", "all"],
              "targets": ["xtreme"], "seeds": [0, 1]}
    return StudyConfig(**{**values, **kwargs})


def test_each_intermediate_model_is_trained_once_and_shared() -> None:
    stages = plan(grid(), "data", "code", {"a": "1", "b": "2"})
    kinds = Counter(s.kind for s in stages)
    assert kinds["intermediate"] == 2 * 2 * 2  # archs x non-none settings x seeds
    # XQuAD and MLQA both train on SQuAD v1.1: one target model serves both.
    assert kinds["target"] == 2 * 3 * 2 * 6
    assert kinds["evaluate"] == 2 * 3 * 2 * 9
    keys = [s.key for s in stages]
    assert len(keys) == len(set(keys))
    position = {s.key: i for i, s in enumerate(stages)}
    for stage in stages:
        assert all(position[k] < position[stage.key] for k in stage.needs)
    inter = {(s.architecture, s.intermediate, s.seed): s.key for s in stages
             if s.kind == "intermediate"}
    for stage in stages:
        if stage.kind == "target" and stage.intermediate != "none":
            assert stage.needs == (inter[(stage.architecture, stage.intermediate, stage.seed)],)
        if stage.kind == "evaluate" and stage.target in ("bucc2018", "tatoeba"):
            expected = (inter[(stage.architecture, stage.intermediate, stage.seed)],) \
                if stage.intermediate != "none" else ()
            assert stage.needs == expected  # retrieval: the intermediate encoder itself


def test_keys_follow_their_inputs() -> None:
    first = {s.label: s.key for s in plan(grid(), "data", "code", {"a": "1", "b": "2"})}
    same = {s.label: s.key for s in plan(grid(), "data", "code", {"a": "1", "b": "2"})}
    assert first == same
    new_data = {s.label: s.key for s in plan(grid(), "data2", "code", {"a": "1", "b": "2"})}
    assert not set(first.values()) & set(new_data.values())
    new_model = {s.label: s.key for s in plan(grid(), "data", "code", {"a": "1", "b": "3"})}
    changed = {label for label in first if first[label] != new_model[label]}
    assert changed == {label for label in first if "/b/" in label}


def test_tatoeba_from_the_squad_model() -> None:
    stages = plan(grid(targets=["tatoeba"], tatoeba_from="squad_v1"), "d", "c",
                  {"a": "1", "b": "2"})
    squad = {s.key for s in stages if s.kind == "target" and s.target == "xquad"}
    evaluations = [s for s in stages if s.kind == "evaluate"]
    assert len(squad) == 2 * 3 * 2
    assert all(len(s.needs) == 1 and s.needs[0] in squad for s in evaluations)


def test_missing_real_tables_name_the_fetch_command(tmp_path) -> None:
    from xstilts.runner import prepare_data

    config = StudyConfig.model_validate({
        "name": "x", "data": {"source": "hub", "out": str(tmp_path / "data")},
        "architectures": ["mbert"], "intermediate": ["none", "qqp"], "targets": ["pawsx"]})
    with pytest.raises(UserError) as info:
        prepare_data(config)
    message = str(info.value)
    assert "xstilts data fetch --source hub" in message and "--tasks qqp,pawsx" in message
