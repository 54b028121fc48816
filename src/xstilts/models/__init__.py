"""The model layer: registry of encoders, tiny test models, encoders, heads and checkpoints.

Names are imported lazily, so that ``xstilts.models.registry`` (used by fast CLI commands)
does not pay for importing torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # registry
    "Architecture": "registry", "Family": "registry", "FAMILIES": "registry",
    "REGISTRY": "registry", "TINY_NAMES": "registry", "resolve_architecture": "registry",
    "retrieval_layer_for": "registry", "known_names": "registry",
    # tiny models
    "build_tiny": "tiny",
    # encoder
    "Encoder": "encoder", "EncoderOutput": "encoder", "load_backbone": "encoder",
    # heads
    "ClassificationHead": "heads", "TaggingHead": "heads", "SpanHead": "heads",
    "MultipleChoiceHead": "heads", "mean_pool": "heads", "masked_mean": "heads",
    "default_pooling": "heads", "HeadSpec": "heads", "ModelOutput": "heads",
    "MultiTaskModel": "heads", "Pooling": "heads", "IGNORE_INDEX": "heads",
    # checkpoints
    "save_checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
    "load_for_transfer": "checkpoint", "read_checkpoint_info": "checkpoint",
    "CheckpointInfo": "checkpoint", "is_checkpoint": "checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the defining submodule on first use of a public name."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from xstilts.models.checkpoint import (
        CheckpointInfo,
        is_checkpoint,
        load_checkpoint,
        load_for_transfer,
        read_checkpoint_info,
        save_checkpoint,
    )
    from xstilts.models.encoder import Encoder, EncoderOutput, load_backbone
    from xstilts.models.heads import (
        IGNORE_INDEX,
        ClassificationHead,
        HeadSpec,
        ModelOutput,
        MultipleChoiceHead,
        MultiTaskModel,
        Pooling,
        SpanHead,
        TaggingHead,
        default_pooling,
        masked_mean,
        mean_pool,
    )
    from xstilts.models.registry import (
        FAMILIES,
        REGISTRY,
        TINY_NAMES,
        Architecture,
        Family,
        known_names,
        resolve_architecture,
        retrieval_layer_for,
    )
    from xstilts.models.tiny import build_tiny
