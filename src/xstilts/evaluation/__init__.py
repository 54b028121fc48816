"""Scoring: the official XTREME/XTREME-R metrics, and reading and writing leaderboard folders."""

from xstilts.evaluation.leaderboard import score_submission, task_languages, write_task_file
from xstilts.evaluation.metrics import (
    accuracy,
    bucc_f1,
    map_at_k,
    mlqa_em_f1,
    mrr_at_k,
    seqeval_f1,
    seqeval_f1_flat,
    squad_em_f1,
)

__all__ = [
    "accuracy",
    "bucc_f1",
    "map_at_k",
    "mlqa_em_f1",
    "mrr_at_k",
    "score_submission",
    "seqeval_f1",
    "seqeval_f1_flat",
    "squad_em_f1",
    "task_languages",
    "write_task_file",
]
