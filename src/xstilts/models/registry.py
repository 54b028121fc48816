"""The encoders the study compares, and how a user's model name becomes one.

A model is named by a registry name (``xlmr-base``), a tiny test model (``tiny-mt5``, built
from the data folder), a local folder holding a Hugging Face ``config.json``, or a hub id
(``owner/name``). Everything else about the model (family, depth, width) is read from its
config, so that any BERT, XLM-R or (m)T5 checkpoint can join the study.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError

from xstilts.errors import UserError

# What a hub look-up raises when the model is missing, gated, offline or unreachable
# (connection failures reach us as LocalEntryNotFoundError, an OSError).
HUB_ERRORS = (OSError, ValueError, EntryNotFoundError)

Family = Literal["bert", "xlmr", "mt5"]
FAMILIES: tuple[Family, ...] = ("bert", "xlmr", "mt5")

# Hugging Face ``config.model_type`` -> family. T5 checkpoints share mT5's architecture.
MODEL_TYPES: dict[str, Family] = {"bert": "bert", "xlm-roberta": "xlmr", "mt5": "mt5",
                                  "t5": "mt5"}

TINY_NAMES: tuple[str, ...] = ("tiny-mbert", "tiny-xlmr", "tiny-mt5")
TINY_FAMILIES: dict[str, Family] = {"tiny-mbert": "bert", "tiny-xlmr": "xlmr",
                                    "tiny-mt5": "mt5"}

# XTREME takes retrieval embeddings from layer 8 of 12 and 14 of 24.
_XTREME_RETRIEVAL_LAYER = {12: 8, 24: 14}
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")


@dataclass(frozen=True)
class Architecture:
    """One encoder of the study: where its weights are and the facts the runner needs."""

    name: str
    model_id: str  # hub id or local folder
    family: Family
    num_layers: int
    hidden_size: int
    retrieval_layer: int  # index into hidden_states (0 = embeddings) for retrieval embeddings
    size: str  # tiny/small/base/large/xl, for GPU sizing


def retrieval_layer_for(num_layers: int) -> int:
    """XTREME's layer for retrieval embeddings; other depths keep its 2/3 proportion."""
    return _XTREME_RETRIEVAL_LAYER.get(num_layers, round(num_layers * 2 / 3))


def size_for(hidden_size: int) -> str:
    """A size class from the width, for models not in the registry."""
    for limit, size in ((256, "tiny"), (512, "small"), (768, "base"), (1024, "large")):
        if hidden_size <= limit:
            return size
    return "xl"


def _arch(name: str, model_id: str, family: Family, layers: int, hidden: int,
          size: str) -> Architecture:
    return Architecture(name, model_id, family, layers, hidden, retrieval_layer_for(layers),
                        size)


REGISTRY: dict[str, Architecture] = {a.name: a for a in (
    _arch("mbert", "bert-base-multilingual-cased", "bert", 12, 768, "base"),
    _arch("xlmr-base", "FacebookAI/xlm-roberta-base", "xlmr", 12, 768, "base"),
    _arch("xlmr-large", "FacebookAI/xlm-roberta-large", "xlmr", 24, 1024, "large"),
    _arch("mt5-small", "google/mt5-small", "mt5", 8, 512, "small"),
    _arch("mt5-base", "google/mt5-base", "mt5", 12, 768, "base"),
    _arch("mt5-large", "google/mt5-large", "mt5", 24, 1024, "large"),
    _arch("mt5-xl", "google/mt5-xl", "mt5", 24, 2048, "xl"),
)}


def known_names() -> tuple[str, ...]:
    """Every name ``resolve_architecture`` accepts without a path or hub id."""
    return (*REGISTRY, *TINY_NAMES)


def tiny_dir(data_dir: Path, name: str) -> Path:
    """Where ``xstilts models build-tiny`` puts a tiny model."""
    return Path(data_dir) / "models" / name


def family_of(model_type: str | None, where: str) -> Family:
    """The family of a Hugging Face ``model_type``, or a clear error naming what is supported."""
    family = MODEL_TYPES.get(model_type or "")
    if family is None:
        supported = ", ".join(f"{f} ({'/'.join(t for t, g in MODEL_TYPES.items() if g == f)})"
                              for f in FAMILIES)
        raise UserError(f"{where}: model_type {model_type!r} is not supported; supported "
                        f"families (model_type): {supported}")
    return family


def architecture_from_config(name: str, model_id: str, config: dict,
                             size: str | None = None) -> Architecture:
    """An architecture from a parsed ``config.json`` (family, depth and width as configured)."""
    family = family_of(config.get("model_type"), name)
    keys = ("num_layers", "d_model") if family == "mt5" else ("num_hidden_layers", "hidden_size")
    try:
        layers, hidden = (int(config[k]) for k in keys)
    except (KeyError, TypeError, ValueError):
        raise UserError(f"{name}: config.json lacks a valid {keys[0]}/{keys[1]}") from None
    return _arch(name, model_id, family, layers, hidden, size or size_for(hidden))


def _read_config(path: Path, name: str) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{name}: cannot read {path} ({exc})") from None
    if not isinstance(config, dict):
        raise UserError(f"{name}: {path} is not a Hugging Face config")
    return config


def _tiny(name: str, data_dir: Path) -> Architecture:
    folder = tiny_dir(data_dir, name)
    if not (folder / "config.json").is_file():
        raise UserError(f"{name} is not built in {data_dir}; run: "
                        f"xstilts models build-tiny --data {data_dir}")
    return architecture_from_config(name, str(folder), _read_config(folder / "config.json",
                                                                     name), "tiny")


def _local(path: Path, name: str) -> Architecture:
    config = path / "config.json"
    if not config.is_file():
        raise UserError(f"{path} is not a Hugging Face model folder (no config.json)")
    return architecture_from_config(name, str(path), _read_config(config, name))


def _hub(model_id: str) -> Architecture:
    try:
        config = hf_hub_download(model_id, "config.json")
    except HUB_ERRORS as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot read config.json of hub model {model_id!r} ({reason}); check "
                        f"the id, or download it while online (hf download {model_id}); a "
                        "local folder must exist to be used as one") from None
    return architecture_from_config(model_id, model_id, _read_config(Path(config), model_id))


def resolve_architecture(name_or_path: str, data_dir: Path) -> Architecture:
    """The architecture a user means: registry name, tiny name, local folder or hub id."""
    if name_or_path in REGISTRY:
        return REGISTRY[name_or_path]
    if name_or_path in TINY_FAMILIES:
        return _tiny(name_or_path, Path(data_dir))
    path = Path(name_or_path).expanduser()
    if path.exists():
        return _local(path, name_or_path)
    if _HUB_ID.fullmatch(name_or_path) and ".." not in name_or_path:
        return _hub(name_or_path)
    raise UserError(f"unknown model {name_or_path!r}; use one of {', '.join(known_names())}, "
                    "a local folder with a Hugging Face config.json, or a hub id (owner/name)")
