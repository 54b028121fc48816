"""Zero-shot evaluation throughput over every XNLI language (examples per second), the
tokenisation included, on the CPU: ``xstilts.evaluation.predict.predict`` against
``Trainer.predict`` set up as the example scripts do.

Both sides predict labels for the synthetic XNLI test rows of all 15 languages, one call
per language, with the same tiny XLM-R encoder (each with its own, randomly initialised
classification head: the speed does not depend on the weights). Models are loaded and one
warm-up prediction (the English MNLI dev rows) runs on each side before the clock starts.

* xstilts: ``predict`` encodes the rows through its feature cache (``XSTILTS_CACHE`` points
  at a fresh empty folder for every measurement, so tokenisation runs cold and the cache
  write is included), batches of 32 sorted by length and cut to their longest row.
* baseline: ``datasets`` ``map`` tokenisation with ``padding="max_length"`` (128) and
  ``Trainer.predict`` with the default ``per_device_eval_batch_size`` (8), then argmax to
  label names.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid

from common import (
    NLI_LABELS,
    Context,
    Result,
    describe_threads,
    quiet_libraries,
    skipped,
    trainer_missing,
)

MAX_LENGTH = 128
SPLIT = "test"


def _languages() -> tuple[str, ...]:
    from xstilts.tasks.catalogue import get_task

    return get_task("xnli").all_languages()


def _language_rows(ctx: Context) -> dict[str, dict[str, list]]:
    """Each language's test rows (capped at ``eval_rows``), repeated ``eval_repeat`` times."""
    folder = ctx.setup.folder()
    out = {}
    for language in _languages():
        rows = folder.rows("xnli", language, SPLIT)
        keep = len(rows["text_a"]) if ctx.sizes.eval_rows is None else ctx.sizes.eval_rows
        out[language] = {name: values[:keep] * ctx.sizes.eval_repeat
                         for name, values in rows.items()}
    return out


def _xstilts_once(ctx: Context, per_language: dict[str, dict[str, list]]) -> float:
    import torch

    from xstilts.evaluation.predict import predict
    from xstilts.models.checkpoint import load_for_transfer
    from xstilts.models.heads import HeadSpec
    from xstilts.tasks.catalogue import get_task
    from xstilts.training.data import Rows
    from xstilts.training.recipes import Recipe

    quiet_libraries()
    torch.set_num_threads(ctx.threads)
    task = get_task("xnli")
    spec = HeadSpec("classification", labels=NLI_LABELS)
    model, tokenizer = load_for_transfer(ctx.setup.model_dir, ctx.setup.family,
                                         {"xnli": spec}, seed=0)
    model.eval()
    recipe = Recipe(learning_rate=5e-5, epochs=1, batch_size=32, max_length=MAX_LENGTH,
                    eval_every=10**9, eval_examples=1, patience=10**9)
    previous = os.environ.get("XSTILTS_CACHE")
    os.environ["XSTILTS_CACHE"] = tempfile.mkdtemp(prefix="xstilts-cache-", dir=ctx.root)
    try:
        run = uuid.uuid4().hex  # the cache is empty anyway; keys never repeat
        warm = ctx.setup.folder().rows("mnli", "en", "validation")
        predict(model, "xnli", task, spec, tokenizer,
                Rows(warm, {"bench": "warm-up", "run": run}), recipe)
        started = time.perf_counter()
        for language, rows in per_language.items():
            labels = predict(model, "xnli", task, spec, tokenizer,
                             Rows(rows, {"bench": "xnli", "language": language, "run": run,
                                         "size": len(rows["text_a"])}), recipe)
            assert len(labels) == len(rows["text_a"])
        return time.perf_counter() - started
    finally:
        if previous is None:
            os.environ.pop("XSTILTS_CACHE", None)
        else:
            os.environ["XSTILTS_CACHE"] = previous


def _trainer_once(ctx: Context, per_language: dict[str, dict[str, list]]) -> float:
    import datasets
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    quiet_libraries()
    torch.set_num_threads(ctx.threads)
    tokenizer = AutoTokenizer.from_pretrained(ctx.setup.model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(ctx.setup.model_dir,
                                                               num_labels=3)

    def tokenize(batch: dict) -> dict:
        return tokenizer(batch["text_a"], batch["text_b"], padding="max_length",
                         max_length=MAX_LENGTH, truncation=True)

    def labels_of(rows: dict[str, list]) -> list[str]:
        table = datasets.Dataset.from_dict({"text_a": rows["text_a"],
                                            "text_b": rows["text_b"]})
        encoded = table.map(tokenize, batched=True, remove_columns=["text_a", "text_b"])
        logits = trainer.predict(encoded).predictions
        return [NLI_LABELS[i] for i in logits.argmax(-1).tolist()]

    with tempfile.TemporaryDirectory(dir=ctx.root) as output_dir:
        args = TrainingArguments(output_dir=output_dir, report_to=[], disable_tqdm=True,
                                 use_cpu=True, dataloader_num_workers=0, seed=0)
        trainer = Trainer(model=model, args=args, data_collator=default_data_collator,
                          processing_class=tokenizer)
        labels_of(ctx.setup.folder().rows("mnli", "en", "validation"))  # warm-up
        started = time.perf_counter()
        for rows in per_language.values():
            assert len(labels_of(rows)) == len(rows["text_a"])
        return time.perf_counter() - started


def bench_evaluation(ctx: Context) -> list[Result]:
    name, unit, target = "zero-shot evaluation throughput (XNLI, all languages)", \
        "examples/s", ">= 3.0"
    per_language = _language_rows(ctx)
    examples = sum(len(rows["text_a"]) for rows in per_language.values())
    missing = trainer_missing()
    ours, theirs = float("inf"), float("inf")
    for _ in range(ctx.sizes.repeats):  # in turns, so both sides see the same load
        ours = min(ours, _xstilts_once(ctx, per_language))
        if not missing:
            theirs = min(theirs, _trainer_once(ctx, per_language))
    if missing:  # the xstilts side still runs, and its figure is kept
        return [skipped(name, unit, "higher", target, missing, value=examples / ours,
                        details={"examples": examples, "xstilts_seconds": ours})]
    per_row = examples // len(per_language)
    notes = (
        f"synthetic XNLI {SPLIT} rows of all {len(per_language)} languages, {per_row} per "
        f"language (the generator's rows repeated {ctx.sizes.eval_repeat}x), {examples} "
        f"examples per side, one call per language, tokenisation included and cold on both "
        f"sides, best of {ctx.sizes.repeats} measurements per side taken in turns; "
        f"tiny-xlmr; {describe_threads(ctx.threads)}. "
        f"xstilts: predict() (feature cache in a fresh XSTILTS_CACHE, batches of 32 by "
        f"length, cut to the longest row). Baseline: datasets.map(padding='max_length', "
        f"max_length={MAX_LENGTH}) + Trainer.predict with the default "
        f"per_device_eval_batch_size=8, as run_xnli.py / run_glue.py do. Model loading "
        f"and one warm-up prediction are outside the clock on both sides.")
    return [Result(name=name, value=examples / ours, baseline_value=examples / theirs,
                   unit=unit, better="higher", target=target, notes=notes,
                   details={"examples": examples, "xstilts_seconds": ours,
                            "baseline_seconds": theirs, "languages": len(per_language),
                            "threads": ctx.threads})]
