"""Study configuration files (YAML). This module reads the ``data`` section; the study
engine extends the same file with the grid, recipes and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from xstilts.errors import UserError

M = TypeVar("M", bound=BaseModel)


class DataConfig(BaseModel):
    """Where data comes from, and which dataset revisions are pinned."""

    model_config = ConfigDict(extra="forbid")

    source: str = "synthetic"  # hub | synthetic
    out: Path = Path("data")
    hub_mirror: Path | None = None
    raw_dir: Path | None = None
    # Hugging Face dataset id -> revision (commit hash, tag or branch) to read.
    revisions: dict[str, str] = {}
    seed: int = 0


def read_mapping(path: Path) -> dict:
    """A YAML file whose top level is a mapping, or a clear error."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"config file {path} does not exist") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    return document


def validated(model: type[M], document: dict, path: Path, prefix: str = "") -> M:
    """``model`` validated from ``document``; the first problem becomes one line naming the
    field and, for unknown fields, the valid ones."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = prefix + (".".join(str(p) for p in problem["loc"]) or "(top level)")
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            valid = _fields_at(model, problem["loc"][:-1])
            message = f"unknown field; valid fields: {', '.join(valid)}"
        raise UserError(f"{path}: {where}: {message}") from None
    except UserError as exc:  # raised by a model's own cross-field checks
        raise UserError(f"{path}: {exc}") from None


def _fields_at(model: type[BaseModel], location: tuple) -> list[str]:
    """Field names of the (nested) model at ``location``."""
    for part in location:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def load_data_config(path: Path) -> DataConfig:
    """The ``data`` section of a study config file."""
    return validated(DataConfig, read_mapping(path).get("data") or {}, path, "data.")
