"""Study configuration files (YAML). This module reads the ``data`` section; the study
engine extends the same file with the grid, recipes and outputs."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from xstilts.errors import UserError


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


def load_data_config(path: Path) -> DataConfig:
    """The ``data`` section of a study config file."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UserError(f"config file {path} does not exist") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    try:
        return DataConfig.model_validate(document.get("data") or {})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise UserError(f"{path}: data.{where}: {problem['msg']}") from None
