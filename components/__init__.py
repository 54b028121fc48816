"""KFP lightweight components: one thin wrapper per stage of a study.

Every component runs in the project image (``IMAGE``), which has xstilts, torch and kfp
installed, so no component installs anything at pod start (``install_kfp_package=False``,
no ``packages_to_install``). Each body imports xstilts inside the function and calls the
library's stage function; the library itself never imports kfp.

The study config travels as a JSON string parameter (``StudyConfig.model_dump_json()``)
together with the fields that identify the stage (architecture, intermediate, seed, target).
Secrets never travel as parameters: pods read them from Kubernetes Secrets (see
``pipelines/resources.py``).
"""

from __future__ import annotations

import os

DEFAULT_IMAGE = "ghcr.io/xstilts/xstilts:0.1.0"


def image() -> str:
    """The component image: ``XSTILTS_IMAGE`` when set (read at call time), else the default."""
    return os.environ.get("XSTILTS_IMAGE") or DEFAULT_IMAGE


IMAGE = image()
"""The image the components were defined with (``XSTILTS_IMAGE`` at import time).
``pipelines.study.build_pipeline`` re-reads the variable when it compiles."""

from components.data import data_gate, prepare_data, validate_data  # noqa: E402
from components.evaluation import (  # noqa: E402
    evaluate,
    evaluate_retrieval,
    evaluation_component,
)
from components.report import collect, publish, record_outcome, report  # noqa: E402
from components.training import train_intermediate, train_target  # noqa: E402

__all__ = ["DEFAULT_IMAGE", "IMAGE", "image", "prepare_data", "validate_data", "data_gate", "train_intermediate",
           "train_target", "evaluate", "evaluate_retrieval", "evaluation_component", "collect",
           "report", "publish", "record_outcome"]
