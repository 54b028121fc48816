"""Sentence and passage retrieval from embeddings: Tatoeba, BUCC, Mewsli-X and LAReQA.

Similarity is cosine: vectors are L2-normalised float32 copies searched with an exact
faiss ``IndexFlatIP``. BUCC mining follows XTREME's ``mine_bitext`` (from LASER): ratio
margin with k = 4 neighbours, "max" retrieval (forward and backward best pairs, greedily
kept so that each sentence is used once), and a score threshold tuned on the "sample"
(dev) split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from xstilts.evaluation.metrics import bucc_f1

Candidate = tuple[str, str, float]
"""A mined BUCC pair: (source id, target id, margin score)."""


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 copy with unit rows (zero rows stay zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True, order="C")
    if out.ndim != 2:
        raise ValueError(f"expected a 2-d array of embeddings, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.where(norms > 0, norms, 1.0)
    return out


def knn(queries: np.ndarray, documents: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores [Q,k] and indices [Q,k] of each query's ``k`` nearest documents.

    ``k`` is capped at the number of documents. The inputs are not modified.
    """
    query = _normalised(queries)
    docs = _normalised(documents)
    if query.shape[1] != docs.shape[1]:
        raise ValueError(f"queries have dimension {query.shape[1]}, documents {docs.shape[1]}")
    k = min(k, docs.shape[0])
    if k <= 0 or query.shape[0] == 0:
        return (np.zeros((query.shape[0], 0), dtype=np.float32),
                np.zeros((query.shape[0], 0), dtype=np.int64))
    index = faiss.IndexFlatIP(docs.shape[1])
    index.add(docs)
    scores, indices = index.search(query, k)
    return scores, indices


def tatoeba_predictions(english: np.ndarray, other: np.ndarray) -> list[int]:
    """For each English sentence (query, en→xx), the index of its nearest other sentence."""
    _, indices = knn(english, other, 1)
    return [int(i) for i in indices[:, 0]]


def ranked_ids(query_emb: np.ndarray, cand_emb: np.ndarray, cand_ids: Sequence[str],
               k: int = 20) -> list[list[str]]:
    """The ids of each query's ``k`` nearest candidates, best first (Mewsli-X, LAReQA)."""
    _, indices = knn(query_emb, cand_emb, k)
    return [[cand_ids[int(i)] for i in row] for row in indices]


# --- BUCC ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarginScores:
    """Ratio-margin scores of each sentence's k nearest neighbours, in both directions.

    ``forward_indices[i]`` are source i's k nearest targets and ``forward_scores[i]``
    their margins; ``backward_*`` the same for each target's nearest sources.
    """

    forward_indices: np.ndarray
    forward_scores: np.ndarray
    backward_indices: np.ndarray
    backward_scores: np.ndarray


def margin_scores(src: np.ndarray, tgt: np.ndarray, k: int = 4) -> MarginScores:
    """Artetxe & Schwenk (2019) ratio margin for kNN candidate pairs in both directions.

    margin(x, y) = cos(x, y) / ((mean cos of x's k nearest targets + mean cos of y's k
    nearest sources) / 2). A "hub" close to everything has a large mean, so its margin
    falls below that of a true translation even when its raw cosine is higher.
    """
    forward_sim, forward_ind = knn(src, tgt, k)
    backward_sim, backward_ind = knn(tgt, src, k)
    forward_mean = forward_sim.astype(np.float64).mean(axis=1)
    backward_mean = backward_sim.astype(np.float64).mean(axis=1)
    forward = forward_sim / ((forward_mean[:, None] + backward_mean[forward_ind]) / 2)
    backward = backward_sim / ((backward_mean[:, None] + forward_mean[backward_ind]) / 2)
    return MarginScores(forward_ind, forward, backward_ind, backward)


def mine_candidates(
    src_emb: np.ndarray, tgt_emb: np.ndarray, src_ids: Sequence[str], tgt_ids: Sequence[str],
    k: int = 4,
) -> list[Candidate]:
    """Mined (source id, target id, margin) pairs, highest margin first.

    Each source's best target and each target's best source are pooled ("max"
    retrieval); then, from the highest score down, a pair is kept only if neither of its
    sentences is in a kept pair already. So each source appears at most once, with the
    best target still free for it. No threshold is applied here.
    """
    if len(src_ids) != len(src_emb) or len(tgt_ids) != len(tgt_emb):
        raise ValueError("ids and embeddings differ in length")
    margins = margin_scores(src_emb, tgt_emb, k)
    if margins.forward_scores.shape[1] == 0 or margins.backward_scores.shape[1] == 0:
        return []
    sources = np.arange(len(src_ids))
    targets = np.arange(len(tgt_ids))
    forward_best = margins.forward_scores.argmax(axis=1)
    backward_best = margins.backward_scores.argmax(axis=1)
    pairs = np.concatenate([
        np.stack([sources, margins.forward_indices[sources, forward_best]], axis=1),
        np.stack([margins.backward_indices[targets, backward_best], targets], axis=1),
    ])
    scores = np.concatenate([margins.forward_scores[sources, forward_best],
                             margins.backward_scores[targets, backward_best]])
    kept: list[Candidate] = []
    seen_src: set[int] = set()
    seen_tgt: set[int] = set()
    for i in np.argsort(-scores, kind="stable"):
        source, target = int(pairs[i, 0]), int(pairs[i, 1])
        if source in seen_src or target in seen_tgt:
            continue
        seen_src.add(source)
        seen_tgt.add(target)
        kept.append((src_ids[source], tgt_ids[target], float(scores[i])))
    return kept


def tune_threshold(candidates: Sequence[Candidate], gold_pairs: set[tuple[str, str]]) -> float:
    """The margin threshold that maximises BUCC F1 of ``candidates`` against ``gold_pairs``.

    Pairs scoring strictly above the threshold are predicted. Every cut between two
    distinct scores is tried (counts are updated incrementally, the same set F1 as
    ``bucc_f1``); the threshold is the midpoint between the last kept and the first
    dropped score, as in XTREME's ``bucc_optimize``, or 1 below the lowest score when all
    are kept. With no correct candidate it is the highest score (nothing predicted).
    The returned threshold's F1 is checked with ``bucc_f1``.
    """
    ordered = sorted(candidates, key=lambda candidate: -candidate[2])
    if not ordered:
        return 0.0
    gold = {tuple(pair) for pair in gold_pairs}
    best_f1, best_cut = 0.0, 0
    correct = 0
    seen: set[tuple[str, str]] = set()
    for position, (source, target, score) in enumerate(ordered):
        if (source, target) not in seen:
            seen.add((source, target))
            correct += (source, target) in gold
        is_cut = position + 1 == len(ordered) or ordered[position + 1][2] < score
        if is_cut and correct:
            f1 = 2 * correct / (len(seen) + len(gold))
            if f1 > best_f1:
                best_f1, best_cut = f1, position + 1
    threshold = _threshold_at(ordered, best_cut)
    checked = bucc_f1(gold, apply_threshold(ordered, threshold))["f1"]
    if abs(checked - best_f1 * 100) > 1e-6:
        raise AssertionError(f"tuned F1 {best_f1 * 100} differs from bucc_f1 {checked}")
    return threshold


def _threshold_at(ordered: Sequence[Candidate], cut: int) -> float:
    """A threshold keeping exactly the first ``cut`` of the score-sorted candidates."""
    if cut == 0:
        return float(ordered[0][2])
    if cut == len(ordered):
        return float(ordered[-1][2]) - 1.0
    kept, dropped = float(ordered[cut - 1][2]), float(ordered[cut][2])
    middle = (kept + dropped) / 2
    return middle if dropped <= middle < kept else dropped


def apply_threshold(candidates: Sequence[Candidate], threshold: float) -> list[str]:
    """"src_id\\ttgt_id" lines (the leaderboard's BUCC format) of pairs scoring above it."""
    return [f"{source}\t{target}" for source, target, score in candidates if score > threshold]
