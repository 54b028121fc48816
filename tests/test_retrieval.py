"""Retrieval on constructed embeddings whose right answers are known."""

from __future__ import annotations

import numpy as np

from xstilts.evaluation.metrics import bucc_f1
from xstilts.evaluation.retrieval import (
    apply_threshold,
    knn,
    margin_scores,
    mine_candidates,
    ranked_ids,
    tatoeba_predictions,
    tune_threshold,
)


def unit(rng: np.random.Generator, n: int, dim: int = 64) -> np.ndarray:
    vectors = rng.standard_normal((n, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def noisy(rng: np.random.Generator, vectors: np.ndarray, scale: float) -> np.ndarray:
    return vectors + scale * rng.standard_normal(vectors.shape) / np.sqrt(vectors.shape[1])


def test_knn_is_cosine_and_leaves_inputs_alone():
    queries = np.array([[3.0, 0.0], [0.0, 0.5]])
    docs = np.array([[0.0, 10.0], [1.0, 0.1], [-1.0, 0.0]])
    before = docs.copy()
    scores, indices = knn(queries, docs, k=5)
    assert indices.tolist() == [[1, 0, 2], [0, 1, 2]]
    assert np.allclose(scores[0], [1 / np.sqrt(1.01), 0.0, -1.0], atol=1e-6)
    assert np.array_equal(docs, before)


def test_tatoeba_recovers_permutation():
    rng = np.random.default_rng(0)
    english = unit(rng, 300)
    permutation = rng.permutation(300)
    other = noisy(rng, english[permutation], 0.5) * rng.uniform(0.5, 2.0, (300, 1))
    predictions = tatoeba_predictions(english, other)
    assert predictions == np.argsort(permutation).tolist()


def bucc_split(seed: int, pairs: int = 150, extra_src: int = 150, extra_tgt: int = 300):
    """Sources with translations among distractors; returns embeddings, ids and gold pairs."""
    rng = np.random.default_rng(seed)
    parallel = unit(rng, pairs)
    src = np.concatenate([parallel, unit(rng, extra_src)])
    tgt = np.concatenate([noisy(rng, parallel, 0.8), unit(rng, extra_tgt)])
    src_order, tgt_order = rng.permutation(len(src)), rng.permutation(len(tgt))
    src_ids = [f"de-{seed}-{i:05d}" for i in range(len(src))]
    tgt_ids = [f"en-{seed}-{i:05d}" for i in range(len(tgt))]
    # Row i of the shuffled arrays is the original sentence src_order[i].
    src_row = {orig: row for row, orig in enumerate(src_order)}
    tgt_row = {orig: row for row, orig in enumerate(tgt_order)}
    gold = {(src_ids[src_row[i]], tgt_ids[tgt_row[i]]) for i in range(pairs)}
    return src[src_order], tgt[tgt_order], src_ids, tgt_ids, gold


def test_bucc_mining_and_threshold():
    src, tgt, src_ids, tgt_ids, gold = bucc_split(seed=1)
    candidates = mine_candidates(src, tgt, src_ids, tgt_ids, k=4)
    scores = [score for _, _, score in candidates]
    assert scores == sorted(scores, reverse=True)
    assert len({s for s, _, _ in candidates}) == len(candidates)
    assert len({t for _, t, _ in candidates}) == len(candidates)
    mined = {(s, t) for s, t, _ in candidates}
    assert gold <= mined
    threshold = tune_threshold(candidates, gold)
    predicted = apply_threshold(candidates, threshold)
    assert all("\t" in line for line in predicted)
    assert bucc_f1(gold, predicted)["f1"] == 100.0
    # The threshold carries over to a separate test split.
    test_src, test_tgt, test_src_ids, test_tgt_ids, test_gold = bucc_split(seed=2)
    test_candidates = mine_candidates(test_src, test_tgt, test_src_ids, test_tgt_ids)
    assert bucc_f1(test_gold, apply_threshold(test_candidates, threshold))["f1"] >= 95.0


def test_tuned_threshold_maximises_f1():
    rng = np.random.default_rng(3)
    candidates = [(f"s{i}", f"t{i}", float(score))
                  for i, score in enumerate(np.round(rng.uniform(0.8, 1.6, 60), 2))]
    gold = {(s, t) for i, (s, t, score) in enumerate(candidates) if score > 1.1 or i % 7 == 0}
    gold.add(("s-missing", "t-missing"))
    threshold = tune_threshold(candidates, gold)
    best = bucc_f1(gold, apply_threshold(candidates, threshold))["f1"]
    every = [bucc_f1(gold, apply_threshold(candidates, t))["f1"]
             for t in [0.0] + [score for _, _, score in candidates]]
    assert best == max(every) > 0
    assert tune_threshold(candidates, {("x", "y")}) >= max(c[2] for c in candidates)


def test_margin_ranks_a_hub_below_a_true_pair():
    rng = np.random.default_rng(4)
    src = unit(rng, 12, dim=256)
    translations = noisy(rng, src, 0.4)
    translations /= np.linalg.norm(translations, axis=1, keepdims=True)
    # Make translation 0 weak, and add a hub close to every source, closer than it to src 0.
    other = unit(rng, 1, dim=256)[0]
    other -= (other @ src[0]) * src[0]
    weak = 0.3 * src[0] + np.sqrt(1 - 0.3**2) * other / np.linalg.norm(other)
    translations[0] = weak
    hub = src.sum(axis=0) / np.linalg.norm(src.sum(axis=0))
    tgt = np.concatenate([translations, hub[None]])
    cosine = tgt @ src[0]
    assert cosine[12] > cosine[0], "the hub must beat the true pair on raw cosine"
    margins = margin_scores(src, tgt, k=4)
    forward = dict(zip(margins.forward_indices[0].tolist(), margins.forward_scores[0].tolist()))
    assert forward[0] > forward[12]
    candidates = mine_candidates(src, tgt, [f"s{i}" for i in range(12)],
                                 [f"t{i}" for i in range(13)], k=4)
    assert ("s0", "t0") in {(s, t) for s, t, _ in candidates}


def test_ranked_ids_put_gold_first():
    rng = np.random.default_rng(5)
    candidates = unit(rng, 200)
    ids = [f"Q{i}" for i in range(200)]
    gold = rng.choice(200, size=40, replace=False)
    queries = noisy(rng, candidates[gold], 0.6)
    ranked = ranked_ids(queries, candidates, ids, k=20)
    assert all(len(row) == 20 for row in ranked)
    assert [row[0] for row in ranked] == [ids[i] for i in gold]
    assert len(ranked_ids(queries[:2], candidates[:5], ids[:5], k=20)[0]) == 5
