"""Checkpoints of a multi-task model, and the X-STILTs transfer (intermediate encoder, new heads).

Layout of a checkpoint folder::

    OUT/encoder/            the encoder (Hugging Face save_pretrained, safetensors) + tokenizer
    OUT/heads.safetensors   every head's parameters, keyed "<head>.<parameter>"
    OUT/heads.json          head specs, family, pooling, dropout and the caller's ``extra``

The encoder folder is an ordinary Hugging Face model folder, so an intermediate checkpoint's
encoder loads anywhere a pretrained model id does. A checkpoint is written to a staging folder
and renamed into place, so a crash never leaves a half-written one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerBase

from xstilts.atomic import atomic_path
from xstilts.errors import UserError
from xstilts.models.encoder import Encoder
from xstilts.models.heads import DEFAULT_DROPOUT, HeadSpec, MultiTaskModel, Pooling
from xstilts.models.registry import FAMILIES, Family

CHECKPOINT_FORMAT = 1
ENCODER_DIR = "encoder"
HEADS_WEIGHTS = "heads.safetensors"
HEADS_JSON = "heads.json"


@dataclass(frozen=True)
class CheckpointInfo:
    """What heads.json records."""

    family: Family
    pooling: Pooling
    dropout: float
    head_specs: dict[str, HeadSpec]
    extra: dict


def save_checkpoint(model: MultiTaskModel, tokenizer: PreTrainedTokenizerBase, out: Path,
                    extra: dict | None = None) -> None:
    """Write ``model`` (encoder, tokenizer, heads) to the folder ``out``, atomically.

    ``extra`` (JSON-serialisable: task, step, scores, ...) is stored in heads.json.
    """
    record = {
        "format": CHECKPOINT_FORMAT, "family": model.family, "pooling": model.pooling,
        "dropout": model.dropout,
        "heads": {name: spec.to_json() for name, spec in sorted(model.head_specs.items())},
        "extra": extra or {},
    }
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"  # fails before writing
    state = {key: value.detach().cpu().clone().contiguous()
             for key, value in model.heads.state_dict().items()}
    with atomic_path(Path(out)) as staged:
        staged.mkdir()
        model.encoder.backbone.save_pretrained(staged / ENCODER_DIR)
        tokenizer.save_pretrained(staged / ENCODER_DIR)
        save_file(state, staged / HEADS_WEIGHTS, metadata={"format": "pt"})
        (staged / HEADS_JSON).write_text(text, encoding="utf-8")


def is_checkpoint(path: Path | str) -> bool:
    """Whether ``path`` looks like a folder written by ``save_checkpoint``."""
    path = Path(path).expanduser()
    return (path / HEADS_JSON).is_file() or (path / ENCODER_DIR).is_dir()


def read_checkpoint_info(path: Path) -> CheckpointInfo:
    """Parse and check a checkpoint's heads.json; a clear error names the path otherwise."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise UserError(f"checkpoint {path} does not exist")
    file = path / HEADS_JSON
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} is not a complete xstilts checkpoint (no {HEADS_JSON}); "
                        "train it again") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{file} is corrupt ({exc}); train the checkpoint again") from None
    try:
        if record["format"] != CHECKPOINT_FORMAT:
            raise ValueError(f"format {record['format']!r}, expected {CHECKPOINT_FORMAT}")
        if record["family"] not in FAMILIES or record["pooling"] not in ("first", "mean"):
            raise ValueError("bad family or pooling")
        specs = {str(name): HeadSpec.from_json(spec) for name, spec in record["heads"].items()}
        return CheckpointInfo(record["family"], record["pooling"], float(record["dropout"]),
                              specs, dict(record.get("extra") or {}))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{file} is not a valid xstilts heads file ({exc})") from None


def load_checkpoint(path: Path) -> tuple[MultiTaskModel, PreTrainedTokenizerBase]:
    """The model and tokenizer saved by ``save_checkpoint``."""
    path = Path(path).expanduser()
    info = read_checkpoint_info(path)
    encoder, tokenizer = Encoder.load(path / ENCODER_DIR, info.family)
    model = MultiTaskModel(encoder, info.head_specs, info.pooling, info.dropout)
    weights = path / HEADS_WEIGHTS
    try:
        state = load_file(weights)
        model.heads.load_state_dict(state, strict=True)
    except (OSError, SafetensorError) as exc:
        raise UserError(f"{weights} is missing or corrupt ({exc}); train the checkpoint "
                        "again") from None
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise UserError(f"{weights} does not match {HEADS_JSON} ({reason})") from None
    return model, tokenizer


def load_for_transfer(source: Path | str, family: Family, head_specs: dict[str, HeadSpec],
                      seed: int, pooling: Pooling | None = None,
                      dropout: float = DEFAULT_DROPOUT,
                      ) -> tuple[MultiTaskModel, PreTrainedTokenizerBase]:
    """The X-STILTs transfer: the encoder of ``source`` with NEW heads initialised from ``seed``.

    ``source`` is an intermediate checkpoint folder (its heads are dropped) or a pretrained
    model id / folder (the no-intermediate baseline). Pooling defaults to the checkpoint's,
    else the family's.
    """
    model_id: Path | str = source
    if is_checkpoint(source):
        info = read_checkpoint_info(Path(source))
        if info.family != family:
            raise UserError(f"checkpoint {source} holds a {info.family} encoder, not {family}")
        model_id = Path(source).expanduser() / ENCODER_DIR
        pooling = pooling or info.pooling
    encoder, tokenizer = Encoder.load(model_id, family)
    return MultiTaskModel(encoder, head_specs, pooling, dropout, seed=seed), tokenizer
