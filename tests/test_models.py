"""The model layer on the tiny models (real transformers classes, built from synthetic data)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from xstilts.data.fetch import fetch, units_for
from xstilts.data.synthetic import SyntheticSource
from xstilts.errors import UserError
from xstilts.models import (
    REGISTRY,
    TINY_NAMES,
    ClassificationHead,
    Encoder,
    HeadSpec,
    build_tiny,
    default_pooling,
    load_backbone,
    load_checkpoint,
    load_for_transfer,
    masked_mean,
    mean_pool,
    read_checkpoint_info,
    resolve_architecture,
    retrieval_layer_for,
    save_checkpoint,
)

FAMILY_OF = {"tiny-mbert": "bert", "tiny-xlmr": "xlmr", "tiny-mt5": "mt5"}
SPECS = {
    "nli": HeadSpec("classification", labels=("entailment", "neutral", "contradiction")),
    "pos": HeadSpec("tagging", num_labels=5),
    "qa": HeadSpec("span"),
    "copa": HeadSpec("multiple_choice"),
}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic data folder, built once."""
    out = tmp_path_factory.mktemp("models-data")
    with SyntheticSource() as source:
        fetch(units_for(None), source, out, synthetic=True, origin="synthetic")
    return out


@pytest.fixture(scope="session")
def tiny(data_dir: Path) -> dict[str, Path]:
    """The three tiny models, built once."""
    return build_tiny(data_dir)


def _digests(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


def _pairs(tokenizer, n: int) -> dict[str, torch.Tensor]:
    firsts = [f"The river {i} runs past the old mill" for i in range(n)]
    seconds = ["A mill" if i % 2 else "Nothing at all here, really nothing" for i in range(n)]
    return dict(tokenizer(firsts, seconds, padding=True, return_tensors="pt"))


def _batch(kind: str, tokenizer) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    if kind == "multiple_choice":
        flat = _pairs(tokenizer, 6)
        batch = {k: v.view(2, 3, -1) for k, v in flat.items()}
        batch["labels"] = torch.tensor([0, 2])
        return batch
    batch = _pairs(tokenizer, 4)
    length = batch["input_ids"].shape[1]
    if kind == "classification":
        batch["labels"] = torch.tensor([0, 1, 2, 1])
    elif kind == "tagging":
        labels = torch.randint(0, 5, (4, length), generator=generator)
        batch["labels"] = labels.masked_fill(batch["attention_mask"] == 0, -100)
    else:
        batch["start_positions"] = torch.tensor([1, 2, 3, 0])
        batch["end_positions"] = torch.tensor([2, 2, 5, 0])
    return batch


# --------------------------------------------------------------------------- heads

@pytest.mark.parametrize("name", TINY_NAMES)
@pytest.mark.parametrize("head", sorted(SPECS))
def test_every_head_trains_on_every_family(tiny: dict[str, Path], name: str, head: str) -> None:
    model, tokenizer = load_for_transfer(tiny[name], FAMILY_OF[name], SPECS, seed=0)
    model.train()
    kind = SPECS[head].kind
    batch = _batch(kind, tokenizer)
    out = model(head, batch)
    length = batch["input_ids"].shape[-1]
    if kind == "classification":
        assert out.logits.shape == (4, 3)
    elif kind == "tagging":
        assert out.logits.shape == (4, length, 5)
    elif kind == "span":
        assert [t.shape for t in out.logits] == [(4, length), (4, length)]
    else:
        assert out.logits.shape == (2, 3)
    assert out.loss is not None and torch.isfinite(out.loss)
    out.loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert all(torch.isfinite(g).all() for g in grads.values())
    assert any(n.startswith(f"heads.{head}.") and g.abs().sum() > 0 for n, g in grads.items())
    assert any(n.startswith("encoder.") and g.abs().sum() > 0 for n, g in grads.items())
    # Only the head in use and the encoder take part: no other parameter may be left out.
    unused = [n for n, p in model.named_parameters()
              if p.grad is None and not n.startswith("heads.")]
    assert unused == []
    model.eval()
    assert model(head, {k: v for k, v in batch.items()
                        if k in ("input_ids", "attention_mask", "token_type_ids")}).loss is None


def test_tagging_loss_ignores_padding_and_survives_all_ignored(tiny: dict[str, Path]) -> None:
    model, tokenizer = load_for_transfer(tiny["tiny-mbert"], "bert", SPECS, seed=0)
    model.eval()
    batch = _batch("tagging", tokenizer)
    batch["labels"] = torch.full_like(batch["labels"], -100)
    loss = model("pos", batch).loss
    assert loss is not None and loss.item() == 0.0


def test_pooling_defaults_follow_the_family() -> None:
    assert [default_pooling(f) for f in ("bert", "xlmr", "mt5")] == ["first", "first", "mean"]


def test_mt5_mean_pooling_ignores_padding(tiny: dict[str, Path]) -> None:
    encoder, tokenizer = Encoder.load(tiny["tiny-mt5"], "mt5")
    encoder.eval()
    batch = tokenizer(["a much longer sentence about the river and the mill", "short"],
                      padding=True, return_tensors="pt")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert (mask == 0).any()
    scrambled = ids.masked_fill(mask == 0, 7)  # another token id in every padding position
    head = ClassificationHead(encoder.hidden_size, 3, default_pooling("mt5")).eval()
    with torch.no_grad():
        before, after = encoder(ids, mask).last_hidden, encoder(scrambled, mask).last_hidden
        assert not torch.allclose(before, after)  # the padding positions themselves change
        torch.testing.assert_close(masked_mean(before, mask), masked_mean(after, mask))
        torch.testing.assert_close(mean_pool(before, mask), mean_pool(after, mask))
        torch.testing.assert_close(head(before, mask), head(after, mask))
    norms = mean_pool(before, mask).norm(dim=-1)
    torch.testing.assert_close(norms, torch.ones_like(norms))


@pytest.mark.parametrize("name", TINY_NAMES)
def test_encoder_output_is_uniform(tiny: dict[str, Path], name: str) -> None:
    encoder, tokenizer = Encoder.load(tiny[name], FAMILY_OF[name])
    encoder.eval()
    batch = _pairs(tokenizer, 2)
    assert ("token_type_ids" in batch) == (FAMILY_OF[name] == "bert")
    with torch.no_grad():
        out = encoder(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
        ones = torch.ones_like(batch["input_ids"])
        other = encoder(batch["input_ids"], batch["attention_mask"], ones)
    assert len(out.hidden_states) == encoder.num_layers + 1 == 5
    assert out.last_hidden.shape == (2, batch["input_ids"].shape[1], encoder.hidden_size)
    assert torch.equal(out.hidden_states[-1], out.last_hidden)
    # Families without segments ignore token_type_ids; BERT uses them.
    assert torch.equal(other.last_hidden, out.last_hidden) == (FAMILY_OF[name] != "bert")


# --------------------------------------------------------------------------- checkpoints

@pytest.mark.parametrize("name", TINY_NAMES)
def test_transfer_keeps_the_encoder_and_makes_fresh_heads(tiny: dict[str, Path], name: str,
                                                          tmp_path: Path) -> None:
    family = FAMILY_OF[name]
    model, tokenizer = load_for_transfer(tiny[name], family, SPECS, seed=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for head in SPECS:  # one step on every head: encoder and heads leave their init
        model(head, _batch(SPECS[head].kind, tokenizer)).loss.backward()
    optimizer.step()
    out = tmp_path / "intermediate"
    save_checkpoint(model, tokenizer, out, extra={"task": "anli_plus", "step": 1})
    assert sorted(p.name for p in out.iterdir()) == ["encoder", "heads.json",
                                                     "heads.safetensors"]
    assert not list(out.rglob("*.bin"))

    saved_encoder = model.encoder.state_dict()
    saved_heads = model.heads.state_dict()
    first, _ = load_for_transfer(out, family, SPECS, seed=0)
    again, _ = load_for_transfer(out, family, SPECS, seed=0)
    other, _ = load_for_transfer(out, family, SPECS, seed=2)
    pretrained, _ = load_backbone(tiny[name], family)

    for key, value in first.encoder.state_dict().items():
        assert torch.equal(value, saved_encoder[key]), key
    changed = [k for k, v in pretrained.state_dict().items()
               if not torch.equal(v, saved_encoder[f"backbone.{k}"])]
    assert changed  # the transfer loaded the trained encoder, not the pretrained one
    for key, value in first.heads.state_dict().items():
        assert torch.equal(value, again.heads.state_dict()[key]), key
        if key.endswith("weight"):
            assert not torch.equal(value, saved_heads[key]), key
            assert not torch.equal(value, other.heads.state_dict()[key]), key

    # The checkpoint itself reloads exactly, heads included.
    loaded, loaded_tokenizer = load_checkpoint(out)
    assert loaded_tokenizer("a b").input_ids == tokenizer("a b").input_ids
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    info = read_checkpoint_info(out)
    assert info.family == family and info.pooling == default_pooling(family)
    assert info.extra == {"task": "anli_plus", "step": 1}
    assert info.head_specs == SPECS


def test_transfer_refuses_another_family(tiny: dict[str, Path], tmp_path: Path) -> None:
    model, tokenizer = load_for_transfer(tiny["tiny-xlmr"], "xlmr", SPECS, seed=0)
    save_checkpoint(model, tokenizer, tmp_path / "ckpt", extra={})
    with pytest.raises(UserError, match="xlmr"):
        load_for_transfer(tmp_path / "ckpt", "mt5", SPECS, seed=0)
    with pytest.raises(UserError, match="xlmr model, not bert"):
        load_backbone(tiny["tiny-xlmr"], "bert")


def test_corrupt_or_missing_checkpoints_are_user_errors(tiny: dict[str, Path],
                                                        tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError, match=str(missing)):
        load_checkpoint(missing)
    model, tokenizer = load_for_transfer(tiny["tiny-mbert"], "bert", SPECS, seed=0)
    ckpt = tmp_path / "ckpt"
    save_checkpoint(model, tokenizer, ckpt, extra={})

    (ckpt / "heads.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(UserError, match="heads.safetensors"):
        load_checkpoint(ckpt)
    (ckpt / "heads.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(UserError, match="heads.json"):
        load_checkpoint(ckpt)
    (ckpt / "heads.json").unlink()
    with pytest.raises(UserError, match=str(ckpt)):
        load_for_transfer(ckpt, "bert", SPECS, seed=0)
    (ckpt / "encoder" / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(UserError, match="cannot load model"):
        load_backbone(ckpt / "encoder", "bert")


def test_safetensors_only(tiny: dict[str, Path], tmp_path: Path) -> None:
    for folder in tiny.values():
        assert (folder / "model.safetensors").is_file()
        assert not list(folder.glob("*.bin"))
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_bytes((tiny["tiny-mbert"] / "config.json").read_bytes())
    torch.save({"embeddings.word_embeddings.weight": torch.zeros(2, 2)},
               pickled / "pytorch_model.bin")
    with pytest.raises(UserError, match="pytorch_model.bin"):
        load_backbone(pickled, "bert")
    with pytest.raises(UserError, match="does not exist"):
        load_backbone(tmp_path / "absent", "bert")
    # Hub ids that are not cached fail clearly offline (the tests run with HF_HUB_OFFLINE=1).
    with pytest.raises(UserError, match="cannot load model someone/not-cached-model"):
        load_backbone("someone/not-cached-model", "xlmr")


# --------------------------------------------------------------------------- tiny models

def test_build_tiny_is_deterministic(data_dir: Path, tiny: dict[str, Path]) -> None:
    before = {name: _digests(folder) for name, folder in tiny.items()}
    rebuilt = build_tiny(data_dir)
    assert rebuilt == tiny
    after = {name: _digests(folder) for name, folder in rebuilt.items()}
    assert after == before
    for name, files in after.items():
        assert {"model.safetensors", "tokenizer.json", "config.json", "xstilts.json"} <= set(files)
    info = json.loads((tiny["tiny-mt5"] / "xstilts.json").read_text(encoding="utf-8"))
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    assert info["name"] == "tiny-mt5" and info["family"] == "mt5" and info["synthetic"] is True
    assert info["data_version"] == manifest["data_version"] and info["seed"] == 0
    assert not [p for p in (data_dir / "models").iterdir() if p.name.startswith(".")]


def test_tiny_tokenizers_have_their_family_layout(tiny: dict[str, Path]) -> None:
    _, bert = load_backbone(tiny["tiny-mbert"], "bert")
    _, xlmr = load_backbone(tiny["tiny-xlmr"], "xlmr")
    _, mt5 = load_backbone(tiny["tiny-mt5"], "mt5")
    assert bert.convert_ids_to_tokens(bert("x", "y").input_ids)[::2] == ["[CLS]", "[SEP]", "[SEP]"]
    assert [xlmr.bos_token_id, xlmr.pad_token_id, xlmr.eos_token_id, xlmr.unk_token_id] == [
        0, 1, 2, 3]
    assert xlmr.mask_token == "<mask>" and xlmr("x").input_ids[0] == 0
    assert [mt5.pad_token_id, mt5.eos_token_id, mt5.unk_token_id] == [0, 1, 2]
    assert mt5("x").input_ids[-1] == 1 and mt5("x").input_ids[0] != 0
    assert bert("Hello", "Hallo").token_type_ids[-1] == 1
    for tokenizer in (bert, xlmr, mt5):
        assert tokenizer.model_max_length == 512
        assert tokenizer.unk_token_id not in tokenizer("the river runs").input_ids
    assert 3000 <= len(bert) <= 6000 and 3000 <= len(xlmr) <= 6000


def test_unknown_tiny_name(data_dir: Path) -> None:
    with pytest.raises(UserError, match="tiny-gpt"):
        build_tiny(data_dir, names=("tiny-gpt",))


# --------------------------------------------------------------------------- registry

def test_registry_names() -> None:
    assert REGISTRY["mbert"].model_id == "bert-base-multilingual-cased"
    assert (REGISTRY["xlmr-large"].family, REGISTRY["xlmr-large"].hidden_size) == ("xlmr", 1024)
    assert REGISTRY["mt5-xl"].size == "xl" and REGISTRY["mt5-small"].num_layers == 8
    for name, arch in REGISTRY.items():
        assert resolve_architecture(name, Path("unused")) == arch


def test_retrieval_layers() -> None:
    assert [retrieval_layer_for(n) for n in (12, 24, 4, 8, 6)] == [8, 14, 3, 5, 4]
    assert REGISTRY["mbert"].retrieval_layer == 8
    assert REGISTRY["xlmr-large"].retrieval_layer == 14
    assert REGISTRY["mt5-xl"].retrieval_layer == 14
    assert REGISTRY["mt5-small"].retrieval_layer == 5


def test_resolve_tiny_and_local(data_dir: Path, tiny: dict[str, Path]) -> None:
    for name, folder in tiny.items():
        arch = resolve_architecture(name, data_dir)
        assert (arch.family, arch.num_layers, arch.hidden_size) == (FAMILY_OF[name], 4, 64)
        assert (arch.retrieval_layer, arch.size, arch.model_id) == (3, "tiny", str(folder))
        local = resolve_architecture(str(folder), data_dir)
        assert (local.family, local.retrieval_layer, local.name) == (arch.family, 3,
                                                                      str(folder))


def test_resolve_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError) as error:
        resolve_architecture("tiny-xlmr", tmp_path)
    assert f"xstilts models build-tiny --data {tmp_path}" in str(error.value)
    with pytest.raises(UserError) as error:
        resolve_architecture("bert-large-uncased-typo", tmp_path)
    assert all(name in str(error.value) for name in [*REGISTRY, *TINY_NAMES])
    gpt = tmp_path / "gpt"
    gpt.mkdir()
    (gpt / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 2}))
    with pytest.raises(UserError) as error:
        resolve_architecture(str(gpt), tmp_path)
    assert "'gpt2' is not supported" in str(error.value)
    assert all(t in str(error.value) for t in ("bert", "xlm-roberta", "mt5", "t5"))
    with pytest.raises(UserError, match="no config.json"):
        resolve_architecture(str(tmp_path), tmp_path)
    # A hub id that is not cached cannot be read offline (the tests run with HF_HUB_OFFLINE=1).
    with pytest.raises(UserError, match="someone/not-cached-model"):
        resolve_architecture("someone/not-cached-model", tmp_path)


def test_local_t5_config_is_the_mt5_family(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(
        {"model_type": "t5", "num_layers": 6, "d_model": 512}))
    arch = resolve_architecture(str(tmp_path), tmp_path)
    assert (arch.family, arch.num_layers, arch.retrieval_layer, arch.size) == ("mt5", 6, 4,
                                                                               "small")
