"""Training-step throughput and model FLOPs utilisation (MFU) on one GPU, for models shaped
like XLM-R large and the mT5-large encoder, randomly initialised.

    python benchmarks/gpu.py --out gpu.json            # H100 / H200: a few minutes
    python benchmarks/gpu.py --peak-tflops 989 --out gpu.json

Self-contained (torch + transformers only), so that it can be copied to a GPU machine and
run there alone. Each configuration (model x sequence length) trains the encoder with a
3-way classification head on its first token the way xstilts does on a GPU: fp32 weights,
bf16 autocast, fused AdamW, gradient clipping at 1.0, SDPA attention; every sequence is
full length (no padding), so every token is real. A few warm-up steps are followed by
``--steps`` timed steps (``torch.cuda.synchronize`` around the clock).

MFU = 6 x non-embedding parameters x tokens/s / peak dense bf16 FLOP/s (the ``mfu``
field; Kaplan et al.'s 6N per token). ``mfu_with_attention`` adds the attention term of
PaLM's definition, 12 x layers x sequence length x attention width per token (QK^T and
the weighted sum, forward and backward). Non-embedding parameters exclude every
``nn.Embedding`` (token, position and relative-position tables). The peak is looked up
from the device name (H100 SXM and H200: 989 TFLOP/s) or given with ``--peak-tflops``.
The issue's target: MFU >= 40% for xlmr-large at length 256 on an H100.

Without CUDA the script says so and exits 0 (with ``--out``, it writes a record saying it
was skipped).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity), by a substring of the device name;
# the first match wins, so the more specific names come first.
PEAK_BF16_TFLOPS = (
    ("GH200", 989.0), ("H200", 989.0), ("H100 PCIe", 756.0), ("H100 NVL", 835.0),
    ("H100", 989.0), ("H800", 989.0), ("B200", 2250.0), ("A100", 312.0), ("A800", 312.0),
    ("L40S", 362.0), ("L40", 181.0), ("A10G", 70.0), ("L4", 121.0),
)
MODELS = ("xlmr-large", "mt5-large")
SEQ_LENS = (128, 256, 384)
TARGET_MFU = 0.40
TARGET_MODEL, TARGET_SEQ = "xlmr-large", 256


def peak_for(device_name: str) -> float | None:
    for key, tflops in PEAK_BF16_TFLOPS:
        if key.lower() in device_name.lower():
            return tflops
    return None


def build_model(name: str, small: bool):  # noqa: ANN201 - torch is imported lazily
    """The encoder (random init) and a classification head on its first token."""
    import torch
    from transformers import MT5Config, MT5EncoderModel, XLMRobertaConfig, XLMRobertaModel

    layers, hidden, heads = (2, 64, 4) if small else (24, 1024, 16)
    if name == "xlmr-large":
        config = XLMRobertaConfig(
            vocab_size=1000 if small else 250002, hidden_size=hidden,
            num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=4 * hidden, max_position_embeddings=514, type_vocab_size=1,
            layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
            attn_implementation="sdpa")
        encoder = XLMRobertaModel(config, add_pooling_layer=False)
    elif name == "mt5-large":
        config = MT5Config(
            vocab_size=1000 if small else 250112, d_model=hidden, d_kv=hidden // heads,
            d_ff=176 if small else 2816, num_layers=layers, num_decoder_layers=layers,
            num_heads=heads, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
            relative_attention_num_buckets=32, relative_attention_max_distance=128,
            pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
            attn_implementation="sdpa")
        encoder = MT5EncoderModel(config)
    else:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(hidden, 3)

        def forward(self, input_ids, attention_mask, labels):  # noqa: ANN001, ANN201
            states = self.encoder(input_ids=input_ids,
                                  attention_mask=attention_mask).last_hidden_state
            logits = self.head(states[:, 0]).float()
            return torch.nn.functional.cross_entropy(logits, labels)

    model = Classifier()
    shape = {"layers": layers, "hidden": hidden, "heads": heads,
             "attention_width": heads * (hidden // heads), "vocab": config.vocab_size}
    return model, shape


def non_embedding_parameters(model) -> int:  # noqa: ANN001
    import torch

    embedding = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding)
                 for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in embedding)


def measure(name: str, seq_len: int, batch: int, warmup: int, steps: int, device: str,
            small: bool, peak: float | None) -> dict:
    import torch

    on = torch.device(device)
    torch.manual_seed(0)
    with on:
        model, shape = build_model(name, small)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01,
                                  fused=on.type == "cuda")
    generator = torch.Generator(device=on).manual_seed(0)
    input_ids = torch.randint(5, shape["vocab"], (batch, seq_len), device=on,
                              generator=generator)
    attention_mask = torch.ones_like(input_ids)
    labels = torch.randint(0, 3, (batch,), device=on, generator=generator)

    def step() -> None:
        with torch.autocast(on.type, dtype=torch.bfloat16):
            loss = model(input_ids, attention_mask, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def sync() -> None:
        if on.type == "cuda":
            torch.cuda.synchronize(on)

    if on.type == "cuda":
        torch.cuda.reset_peak_memory_stats(on)
    for _ in range(warmup):
        step()
    sync()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    seconds = time.perf_counter() - started
    params = non_embedding_parameters(model)
    tokens_per_s = batch * seq_len * steps / seconds
    flops_6n = 6 * params
    flops_attention = 12 * shape["layers"] * seq_len * shape["attention_width"]
    record = {
        "model": name, "seq_len": seq_len, "batch_size": batch, "warmup_steps": warmup,
        "steps": steps, "seconds": seconds, "step_ms": 1000 * seconds / steps,
        "tokens_per_s": tokens_per_s, "non_embedding_params": params,
        "flops_per_token_6n": flops_6n, "flops_per_token_attention": flops_attention,
        "achieved_tflops_6n": flops_6n * tokens_per_s / 1e12,
        "mfu": flops_6n * tokens_per_s / (peak * 1e12) if peak else None,
        "mfu_with_attention": ((flops_6n + flops_attention) * tokens_per_s / (peak * 1e12)
                               if peak else None),
        "max_memory_gib": (torch.cuda.max_memory_allocated(on) / 2**30
                           if on.type == "cuda" else None),
    }
    del model, optimizer
    if on.type == "cuda":
        torch.cuda.empty_cache()
    return record


def run_one(name: str, seq_len: int, batch: int, args: argparse.Namespace,
            peak: float | None) -> dict:
    """``measure``, halving the batch on out-of-memory."""
    import torch

    while True:
        try:
            return measure(name, seq_len, batch, args.warmup, args.steps, args.device,
                           args.small, peak)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if batch == 1:
                return {"model": name, "seq_len": seq_len, "batch_size": batch,
                        "error": "out of memory"}
            batch //= 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the results here (JSON)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="peak dense bf16 TFLOP/s of the GPU (default: from its name)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seq-lens", default=",".join(map(str, SEQ_LENS)))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    # for checking the script itself without a GPU: tiny shapes, any device
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    import torch
    import transformers

    record: dict = {"torch": torch.__version__, "transformers": transformers.__version__,
                    "target": {"model": TARGET_MODEL, "seq_len": TARGET_SEQ,
                               "mfu": TARGET_MFU, "on": "H100"}}
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("No GPU present (torch.cuda.is_available() is False): nothing to measure; "
              "run this script on a CUDA machine.")
        if args.out:
            record.update(skipped="no CUDA GPU present", device=None, results=[])
            args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return 0
    if args.device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(args.device))
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        name = f"cpu ({args.device})"
    peak = args.peak_tflops or peak_for(name)
    record.update(device=name, peak_tflops=peak, batch_size=args.batch_size, results=[])
    shown = f"{peak:.0f} TFLOP/s" if peak else "unknown (give --peak-tflops)"
    print(f"device: {name}; peak bf16: {shown}", flush=True)
    for model in args.models.split(","):
        for seq_len in (int(s) for s in args.seq_lens.split(",")):
            result = run_one(model.strip(), seq_len, args.batch_size, args, peak)
            record["results"].append(result)
            if "error" in result:
                print(f"{model:>11} seq {seq_len:>3}: {result['error']}")
                continue
            mfu = (f"MFU {100 * result['mfu']:.1f}% "
                   f"({100 * result['mfu_with_attention']:.1f}% with attention)"
                   if result["mfu"] is not None else "MFU unknown")
            print(f"{model:>11} seq {seq_len:>3} batch {result['batch_size']:>3}: "
                  f"{result['tokens_per_s']:>10,.0f} tokens/s, {result['step_ms']:.1f} ms/step, "
                  f"{result['achieved_tflops_6n']:.1f} TFLOP/s (6N), {mfu}", flush=True)
            if args.out:  # keep what is done if a later configuration fails
                args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if args.out:
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
