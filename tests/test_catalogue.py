"""The catalogue lists the study's tasks with the official scorer's language lists."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from xstilts.errors import UserError
from xstilts.tasks import CATALOGUE, get_task, list_tasks
from xstilts.tasks.catalogue import UNITS, corpora_for

INTERMEDIATE = {"anli_plus", "mnli", "qqp", "squad_v1", "squad_v2", "hellaswag", "cosmos_qa",
                "commonsense_qa", "ccg"}
XTREME = {"xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba"}
XTREME_R = {"xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "tatoeba", "mewslix",
            "lareqa"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts.cli", *args], capture_output=True,
                          text=True, check=False)


@pytest.fixture(scope="module")
def tasks_json() -> list[dict]:
    result = run_cli("tasks", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_lists_every_task_with_required_fields(tasks_json: list[dict]) -> None:
    by_name = {t["name"]: t for t in tasks_json}
    intermediates = {n for n, t in by_name.items()
                     if t["role"] == "intermediate" and t["type"] != "mixture"}
    assert intermediates == INTERMEDIATE
    assert by_name["all"]["type"] == "mixture"
    assert set(by_name["all"]["members"]) == INTERMEDIATE
    targets = {n for n, t in by_name.items() if t["role"] == "target"}
    assert targets == XTREME | XTREME_R
    for task in tasks_json:
        assert {"name", "role", "type", "metric"} <= task.keys()
        assert task["role"] in ("intermediate", "target")


def test_language_lists_match_the_official_scorer(tasks_json: list[dict]) -> None:
    langs = {t["name"]: t.get("languages") for t in tasks_json if t["role"] == "target"}
    # Spot checks written out from google-research/xtreme evaluate.py (order included).
    assert langs["xnli"]["xtreme"] == "ar bg de el en es fr hi ru sw th tr ur vi zh".split()
    assert langs["pawsx"] == {"xtreme": "de en es fr ja ko zh".split()}
    assert langs["bucc2018"] == {"xtreme": ["de", "fr", "ru", "zh"]}
    assert langs["xcopa"] == {"xtreme-r": "et ht id it qu sw ta th tr vi zh".split()}
    assert langs["mewslix"] == {"xtreme-r": "ar de en es fa ja pl ro ta tr uk".split()}
    assert langs["lareqa"] == {"xtreme-r": []}  # the scorer's list is empty
    assert langs["xquad"]["xtreme"][:3] == ["en", "es", "de"]
    assert langs["xquad"]["xtreme-r"] == langs["xquad"]["xtreme"] + ["ro"]
    assert len(langs["panx"]["xtreme"]) == 40 and len(langs["panx"]["xtreme-r"]) == 48
    assert langs["panx"]["xtreme-r"][-8:] == "qu pl uk az lt pa gu ro".split()
    assert len(langs["udpos"]["xtreme"]) == 33 and langs["udpos"]["xtreme-r"][-5:] == \
        "lt pl uk wo ro".split()
    assert len(langs["tatoeba"]["xtreme"]) == 36 and len(langs["tatoeba"]["xtreme-r"]) == 41
    assert "en" not in langs["tatoeba"]["xtreme"]
    assert langs["tydiqa"]["xtreme"] == "en ar bn fi id ko ru sw te".split()
    assert langs["mlqa"]["xtreme"] == "en es de ar hi vi zh".split()


def test_protocol_notes_and_training_sources(tasks_json: list[dict]) -> None:
    by_name = {t["name"]: t for t in tasks_json}
    assert by_name["xnli"]["train"] == ["mnli"]
    assert by_name["xquad"]["train"] == by_name["mlqa"]["train"] == ["squad_v1"]
    assert by_name["xcopa"]["train"] == ["siqa", "copa"]
    assert by_name["bucc2018"]["no_target_training"] and by_name["tatoeba"]["no_target_training"]
    assert not by_name["panx"]["no_target_training"]
    assert by_name["udpos"]["labels"][:3] == ["ADJ", "ADP", "ADV"]
    assert len(by_name["udpos"]["labels"]) == 17
    bucc_sources = [s for u in by_name["bucc2018"]["sources"] for s in u["from"]]
    assert {s["kind"] for s in bucc_sources} == {"download"}
    ccg_sources = [s for u in by_name["ccg"]["sources"] for s in u["from"]]
    assert {s["kind"] for s in ccg_sources} == {"user_files"}
    tydiqa_train = next(u for u in by_name["tydiqa"]["sources"] if u["split"] == "train")
    assert tydiqa_train["from"][0]["select"] == {"id_prefix": "english-"}


def test_filters_and_unknown_names() -> None:
    xtreme_targets = {t.name for t in list_tasks(benchmark="xtreme", role="target")}
    assert xtreme_targets == XTREME
    assert {t.name for t in list_tasks(benchmark="xtreme-r", role="target")} == XTREME_R
    with pytest.raises(UserError, match="unknown task 'xnlii'"):
        get_task("xnlii")
    with pytest.raises(UserError, match="unknown role"):
        list_tasks(role="source")
    result = run_cli("tasks", "--benchmark", "xtreme-s")
    assert result.returncode == 2
    assert "unknown benchmark 'xtreme-s'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_unit_is_reachable_and_unique() -> None:
    needed = {c for task in CATALOGUE.values() for c in corpora_for(task)}
    assert needed == set(UNITS)
    keys = [u.key for units in UNITS.values() for u in units]
    assert len(keys) == len(set(keys))
    for task in CATALOGUE.values():
        if task.role != "target":
            continue
        langs = {u.language for u in UNITS[task.name] if u.split == "test"}
        assert set(task.all_languages()) <= langs, task.name
