"""Dual encoders for Mewsli-X and LAReQA on the tiny models (offline, synthetic data)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from xstilts.data.fetch import fetch, units_for
from xstilts.data.synthetic import SyntheticSource
from xstilts.errors import UserError
from xstilts.evaluation.dual_encoder import dual_encoder_predictions, load_dual_encoder
from xstilts.evaluation.leaderboard import score_language, write_task_file
from xstilts.models import build_tiny, load_for_transfer, read_checkpoint_info
from xstilts.models.registry import Architecture, resolve_architecture
from xstilts.study import Budget
from xstilts.tasks.catalogue import get_task
from xstilts.training.data import DataFolder, train_and_dev
from xstilts.training.dual_encoder import (
    HEAD,
    TRAIN_ENTITIES,
    DualEncoder,
    columns_of,
    dev_set,
    mention_query,
    retrieval_score,
    train_dual_encoder,
    training_pairs,
)
from xstilts.training.recipes import recipe_for

PRESET = "smoke"
SEED = 0
STEPS = {"tiny-mbert": 40, "tiny-mt5": 30}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """The tiny models run fastest on one thread, and on a busy machine multi-threaded
    kernels stall waiting for each other; the previous setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic data (with the Mewsli-X training entities) and the tiny models, built once."""
    out = tmp_path_factory.mktemp("dual-encoder-data")
    with SyntheticSource() as source:
        fetch(units_for(None), source, out, synthetic=True, origin="synthetic")
    assert DataFolder(out).has(*TRAIN_ENTITIES)
    build_tiny(out)
    return out


@pytest.fixture(scope="module")
def data(data_dir: Path) -> DataFolder:
    return DataFolder(data_dir)


def _arch(name: str, data_dir: Path) -> Architecture:
    return resolve_architecture(name, data_dir)


def _train(data_dir: Path, out: Path, arch: str, task: str, init: Path | None = None,
           budget: Budget | None = None, seed: int = SEED) -> Path:
    train_dual_encoder(_arch(arch, data_dir), init, get_task(task), data_dir, out, PRESET,
                       budget or Budget(max_steps=STEPS[arch]), seed)
    return out


@pytest.fixture(scope="module")
def trained(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, Path]:
    """Stage folders of the trained dual encoders, trained once."""
    root = tmp_path_factory.mktemp("dual-encoder-stages")
    return {(arch, task): _train(data_dir, root / f"{arch}-{task}", arch, task)
            for arch, task in (("tiny-mbert", "mewslix"), ("tiny-mbert", "lareqa"),
                               ("tiny-mt5", "mewslix"))}


def _log(stage: Path) -> dict:
    return json.loads((stage / "training_log.json").read_text(encoding="utf-8"))


def _predictions(data_dir: Path, data: DataFolder, arch: str, task: str, init: Path | None,
                 budget: Budget | None = None) -> dict:
    return dual_encoder_predictions(_arch(arch, data_dir), init, get_task(task), data,
                                    recipe_for(PRESET, get_task(task)), budget or Budget())


def _random_score(pool: int, k: int = 20) -> float:
    """Expected MRR@k × 100 of a random ranking of ``pool`` candidates with one gold."""
    return 100 * sum(1 / r for r in range(1, k + 1)) / pool


# --------------------------------------------------------------------------- texts

def test_mention_query_marks_the_mention_in_its_sentence() -> None:
    context = "An earlier sentence. The verdict came for Smith, who {left} office. Later on."
    start = context.index("Smith")
    query = mention_query(context, "Smith", start, start + len("Smith"))
    # XTREME's preprocess_mention: "{left} { mention } {right}", so a space before the comma
    assert query == "Smith: The verdict came for { Smith } , who (left) office."


def test_in_batch_duplicates_are_not_negatives(data_dir: Path) -> None:
    arch = _arch("tiny-mbert", data_dir)
    model, tokenizer = load_for_transfer(arch.model_id, arch.family, {}, SEED)
    dual = DualEncoder(model).eval()
    queries = tokenizer(["Anna Berg", "Anna", "Oslo"], padding=True, return_tensors="pt")
    candidates = tokenizer(["Anna Berg is a nurse.", "Anna Berg is a nurse.", "Oslo is a city."],
                           padding=True, return_tensors="pt")
    batch = {f"query_{k}": v for k, v in queries.items()}
    batch.update({f"candidate_{k}": v for k, v in candidates.items()})
    batch["candidate_key"] = torch.tensor([0, 0, 1])
    with torch.no_grad():
        output = dual(HEAD, batch)
    assert output.logits.shape == (3, 3)
    assert math.isinf(output.logits[0, 1]) and math.isinf(output.logits[1, 0])
    assert torch.isfinite(output.logits.diagonal()).all()
    assert torch.isfinite(output.loss) and float(output.loss) > 0


# --------------------------------------------------------------------------- training

@pytest.mark.parametrize("arch,task", [("tiny-mbert", "mewslix"), ("tiny-mbert", "lareqa"),
                                       ("tiny-mt5", "mewslix")])
def test_training_lowers_the_loss(trained: dict, arch: str, task: str) -> None:
    log = _log(trained[arch, task])
    losses = log["losses"]
    assert len(losses) == STEPS[arch] == log["results"][0]["steps"]
    assert all(math.isfinite(x) for x in losses)
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.8 * first, (first, last)
    info = read_checkpoint_info(trained[arch, task] / "model")
    assert info.head_specs == {}
    assert info.extra["task"] == task and info.extra["dual_encoder"]["pooling"] == "mean"


@pytest.mark.parametrize("task", ["mewslix", "lareqa"])
def test_english_dev_score_beats_the_untrained_encoder(data_dir: Path, data: DataFolder,
                                                       trained: dict, task: str) -> None:
    spec = get_task(task)
    recipe = recipe_for(PRESET, spec)
    corpus = spec.train_corpora[0]
    _, dev_rows = train_and_dev(data, corpus, spec.dev_corpus or corpus, None,
                                recipe.eval_examples, SEED)
    dev = dev_set(spec, data, columns_of(dev_rows), SEED)
    assert dev.query_ids and set(dev.gold) == set(dev.query_ids)
    arch = _arch("tiny-mbert", data_dir)
    scores = {}
    for name, init in (("untrained", None), ("trained", trained["tiny-mbert", task])):
        encoder, tokenizer = load_dual_encoder(arch, init)
        scores[name] = retrieval_score(spec, encoder, tokenizer, dev, recipe)
    assert scores["trained"] > scores["untrained"], scores
    assert scores["trained"] > 2 * _random_score(len(dev.candidate_ids)), scores
    # the checkpoint is the model selected on this very dev set
    best = _log(trained["tiny-mbert", task])["results"][0]["best_score"]
    assert scores["trained"] == pytest.approx(best, abs=1e-4)


def test_budget_caps_examples_and_steps(data_dir: Path, tmp_path: Path) -> None:
    stage = _train(data_dir, tmp_path / "stage", "tiny-mbert", "lareqa",
                   budget=Budget(max_steps=3, max_train_examples=50))
    log = _log(stage)
    assert log["pairs"] + log["skipped"] == 50
    assert len(log["losses"]) == 3 == log["results"][0]["steps"]


def test_transfer_from_a_checkpoint(data_dir: Path, data: DataFolder, trained: dict,
                                    tmp_path: Path) -> None:
    """``init`` is a stage folder holding ``model/`` (an intermediate checkpoint's layout)."""
    stage = _train(data_dir, tmp_path / "stage", "tiny-mbert", "lareqa",
                   init=trained["tiny-mbert", "mewslix"], budget=Budget(max_steps=2))
    assert read_checkpoint_info(stage / "model").extra["initialised_from"] == "intermediate"
    assert _predictions(data_dir, data, "tiny-mbert", "lareqa", stage,
                        Budget(max_eval_examples=3))


def test_missing_training_descriptions_are_one_clear_error(tmp_path: Path) -> None:
    units = [u for u in units_for(["mewslix"]) if (u.corpus, u.language, u.split)
             != TRAIN_ENTITIES]
    with SyntheticSource() as source:
        fetch(units, source, tmp_path, synthetic=True, origin="synthetic")
    data = DataFolder(tmp_path)
    assert not data.has(*TRAIN_ENTITIES)
    task = get_task("mewslix")
    rows = data.rows("mewslix", "en", "train")
    with pytest.raises(UserError, match="train_candidates"):
        training_pairs(task, data, rows)


# --------------------------------------------------------------------------- evaluation

@pytest.mark.parametrize("arch,task", [("tiny-mbert", "mewslix"), ("tiny-mbert", "lareqa"),
                                       ("tiny-mt5", "mewslix")])
def test_predictions_are_scored_in_the_leaderboard_layout(data_dir: Path, data: DataFolder,
                                                          trained: dict, tmp_path: Path,
                                                          arch: str, task: str) -> None:
    spec = get_task(task)
    results = _predictions(data_dir, data, arch, task, trained[arch, task])
    assert list(results) == list(spec.all_languages())
    pool = data.rows(task, "all", "candidates")["id"]
    candidates = set(pool)
    for language, (predictions, gold) in results.items():
        queries = data.rows(task, language, "test")["id"]
        assert set(gold) == set(predictions) == set(queries)
        for ranked in predictions.values():
            assert len(ranked) == min(20, len(pool)) == len(set(ranked))
            assert set(ranked) <= candidates
        write_task_file(tmp_path / "predictions", task, language, predictions, "predictions")
        write_task_file(tmp_path / "labels", task, language, gold, "labels")
        scores = score_language(task, language, tmp_path / "predictions", tmp_path / "labels")
        assert set(scores) == {"map@20"} and 0.0 <= scores["map@20"] <= 100.0


def test_eval_budget_caps_queries_not_candidates(data_dir: Path, data: DataFolder,
                                                 trained: dict) -> None:
    stage = trained["tiny-mbert", "mewslix"]
    full = _predictions(data_dir, data, "tiny-mbert", "mewslix", stage)
    capped = _predictions(data_dir, data, "tiny-mbert", "mewslix", stage,
                          Budget(max_eval_examples=4))
    for language, (predictions, gold) in capped.items():
        assert len(predictions) == len(gold) == min(4, len(full[language][0]))
        for qid, ranked in predictions.items():
            # same pool, so the same best candidate as without the cap
            assert ranked[0] == full[language][0][qid][0]


def test_same_seed_gives_identical_predictions(data_dir: Path, data: DataFolder,
                                               trained: dict, tmp_path: Path) -> None:
    again = _train(data_dir, tmp_path / "again", "tiny-mbert", "mewslix")
    assert _log(again)["losses"] == _log(trained["tiny-mbert", "mewslix"])["losses"]
    budget = Budget(max_eval_examples=10)
    first = _predictions(data_dir, data, "tiny-mbert", "mewslix",
                         trained["tiny-mbert", "mewslix"], budget)
    second = _predictions(data_dir, data, "tiny-mbert", "mewslix", again, budget)
    assert first == second
