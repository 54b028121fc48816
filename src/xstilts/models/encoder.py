"""Load a pretrained encoder and give every family one call signature.

BERT and XLM-R load through ``AutoModel`` without their pooler (the study's heads pool
themselves, and an unused pooler would only hold parameters without gradients); mT5 and T5
load their encoder stack only. Weights are read from safetensors only and no remote code is
ever run: a checkpoint is data, not a program.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError
from torch import Tensor, nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    MT5EncoderModel,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5EncoderModel,
)

from xstilts.errors import UserError
from xstilts.models.registry import HUB_ERRORS, Family, family_of

# What transformers raises for a missing, partial, corrupt or mismatched model.
_LOAD_ERRORS = (*HUB_ERRORS, KeyError, RuntimeError, SafetensorError)
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_TORCH_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")


@dataclass
class EncoderOutput:
    """The encoder's output for every family.

    ``hidden_states[0]`` is the embedding output and ``hidden_states[i]`` layer ``i``'s output
    (for mT5 the last entry is after the final layer norm, as Hugging Face returns it).
    """

    last_hidden: Tensor  # [B, T, H]
    hidden_states: tuple[Tensor, ...]  # num_layers + 1 tensors of [B, T, H]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _looks_local(model_id: str) -> bool:
    """A path rather than a hub id (``owner/name`` or a legacy bare name)."""
    return (Path(model_id).expanduser().exists() or model_id.startswith(("/", ".", "~"))
            or model_id.count("/") > 1 or "\\" in model_id)


def _check_local(folder: Path) -> None:
    """Clear errors for local folders before transformers gives a confusing one."""
    if not folder.is_dir():
        raise UserError(f"model folder {folder} does not exist")
    if not (folder / "config.json").is_file():
        raise UserError(f"{folder} is not a Hugging Face model folder (no config.json)")
    if not any((folder / name).is_file() for name in _WEIGHT_FILES):
        if any((folder / name).is_file() for name in _TORCH_FILES):
            raise UserError(f"{folder} holds only PyTorch pickle weights (pytorch_model.bin); "
                            "xstilts reads safetensors only: convert them with "
                            "model.save_pretrained() in a trusted environment")
        raise UserError(f"{folder} has no model weights (model.safetensors)")


def _load_error(model_id: str, exc: BaseException) -> UserError:
    if _looks_local(model_id):
        advice = "rebuild or re-download the model folder"
    else:
        advice = ("check the model id; when offline, download it first (hf download "
                  f"{model_id}); xstilts reads safetensors weights only")
    return UserError(f"cannot load model {model_id} ({_first_line(exc)}); {advice}")


def _model_class(family: Family, config: PretrainedConfig) -> type[PreTrainedModel] | None:
    if family == "mt5":
        return T5EncoderModel if config.model_type == "t5" else MT5EncoderModel
    return None  # AutoModel


def load_backbone(model_id: str | Path,
                  family: Family) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The pretrained encoder (no pooler / no decoder) and its fast tokenizer."""
    model_id = str(model_id)
    if _looks_local(model_id):
        _check_local(Path(model_id).expanduser())
        model_id = str(Path(model_id).expanduser())
    try:
        config = AutoConfig.from_pretrained(model_id, trust_remote_code=False)
        found = family_of(config.model_type, model_id)
        if found != family:
            raise UserError(f"{model_id} is a {found} model, not {family}")
        tokenizer = AutoTokenizer.from_pretrained(model_id, use_fast=True,
                                                  trust_remote_code=False)
        cls = _model_class(family, config)
        if cls is None:
            model = AutoModel.from_pretrained(model_id, config=config, add_pooling_layer=False,
                                              use_safetensors=True, trust_remote_code=False)
        else:
            model = cls.from_pretrained(model_id, config=config, use_safetensors=True)
    except UserError:
        raise
    except _LOAD_ERRORS as exc:
        raise _load_error(model_id, exc) from None
    return model, tokenizer


class Encoder(nn.Module):
    """A pretrained encoder with one call signature for every family."""

    def __init__(self, backbone: PreTrainedModel, family: Family) -> None:
        super().__init__()
        self.backbone = backbone
        self.family: Family = family

    @classmethod
    def load(cls, model_id: str | Path,
             family: Family) -> tuple[Encoder, PreTrainedTokenizerBase]:
        """``load_backbone`` wrapped in an ``Encoder``."""
        backbone, tokenizer = load_backbone(model_id, family)
        return cls(backbone, family), tokenizer

    @property
    def hidden_size(self) -> int:
        """Width of every hidden state (``d_model`` for mT5)."""
        return int(self.backbone.config.hidden_size)

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (the encoder's, for mT5)."""
        return int(self.backbone.config.num_hidden_layers)

    def uses_token_type_ids(self) -> bool:
        """Only BERT has segment embeddings; XLM-R's single type and mT5 have none."""
        return self.family == "bert"

    def forward(self, input_ids: Tensor, attention_mask: Tensor,
                token_type_ids: Tensor | None = None) -> EncoderOutput:
        """Encode a batch; ``token_type_ids`` is ignored by families without segments."""
        kwargs: dict[str, Tensor] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and self.uses_token_type_ids():
            kwargs["token_type_ids"] = token_type_ids
        out = self.backbone(**kwargs, output_hidden_states=True, return_dict=True)
        return EncoderOutput(out.last_hidden_state, tuple(out.hidden_states))
