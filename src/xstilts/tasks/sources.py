"""Where each piece of canonical data comes from.

A *unit* is one canonical table: (corpus, language, split). Each unit names the reader that
converts its source rows, and the sources it reads: a Hugging Face dataset (id, config,
split, revision), an original download (URLs and the files expected after unpacking), or
files the user supplies (licensed data such as CCGbank).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class HubSource(BaseModel):
    """A split of a Hugging Face dataset, read with ``datasets.load_dataset``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["hub"] = "hub"
    dataset: str
    config: str | None = None
    split: str
    revision: str = "main"
    # Rows kept from the split, e.g. {"language": "de"} or {"id_prefix": "english-"}.
    select: dict[str, str] | None = None

    def label(self) -> str:
        parts = [self.dataset]
        if self.config:
            parts.append(self.config)
        text = f"{':'.join(parts)}[{self.split}]"
        if self.select:
            text += "{" + ",".join(f"{k}={v}" for k, v in sorted(self.select.items())) + "}"
        return text


class DownloadSource(BaseModel):
    """Original files from the dataset's authors, where the hub copy is incomplete."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["download"] = "download"
    name: str  # folder under the raw-data root, e.g. "bucc2018"
    urls: tuple[str, ...]
    files: tuple[str, ...]  # paths (relative to the folder) the reader needs
    instructions: str

    def label(self) -> str:
        return f"download:{self.name}/" + ",".join(self.files)


class UserFilesSource(BaseModel):
    """Files the user must supply (licensed data)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["user_files"] = "user_files"
    name: str
    files: tuple[str, ...]
    instructions: str

    def label(self) -> str:
        return f"user_files:{self.name}/" + ",".join(self.files)


Source = HubSource | DownloadSource | UserFilesSource


class Unit(BaseModel):
    """One canonical table and how to build it."""

    model_config = ConfigDict(frozen=True)

    corpus: str
    language: str
    split: str  # canonical split: train | validation | test | candidates | train_candidates
    reader: str  # name of the converter in xstilts.data.converters
    sources: tuple[Source, ...]

    @property
    def key(self) -> str:
        return f"{self.corpus}/{self.language}/{self.split}"
