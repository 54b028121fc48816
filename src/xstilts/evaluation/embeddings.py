"""Sentence embeddings from an encoder: the L2-normalised mean of one layer's hidden states.

One function serves the retrieval targets evaluated without training (BUCC, Tatoeba: a middle
layer, XTREME convention) and the dual encoders (Mewsli-X, LAReQA: the last layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from xstilts.models.device import autocast, model_device, to
from xstilts.models.encoder import Encoder
from xstilts.models.heads import mean_pool
from xstilts.training.features import encode_pairs


@torch.no_grad()
def embed_texts(encoder: Encoder, tokenizer: Any, texts: Sequence[str],
                pairs: Sequence[str] | None, max_length: int, batch_size: int,
                layer: int | None = None) -> np.ndarray:
    """Embeddings [N, H] of texts (or text pairs) in input order, batched by length so
    batches carry little padding; ``layer`` indexes hidden_states (None: the last layer)."""
    encoder.eval()
    count = len(texts)
    out = np.zeros((count, int(encoder.hidden_size)), dtype=np.float32)
    if count == 0:
        return out
    on = model_device(encoder)
    sizes = [len(texts[i]) + (len(pairs[i]) if pairs is not None else 0) for i in range(count)]
    order = sorted(range(count), key=lambda i: (sizes[i], i))
    for start in range(0, count, batch_size):
        index = order[start:start + batch_size]
        features = to(encode_pairs(tokenizer, [texts[i] for i in index],
                                   [pairs[i] for i in index] if pairs is not None else None,
                                   max_length), on)
        with autocast(on):
            output = encoder(features["input_ids"], features["attention_mask"],
                             features.get("token_type_ids"))
        hidden = output.last_hidden if layer is None else output.hidden_states[layer]
        out[index] = mean_pool(hidden.float(), features["attention_mask"]).cpu().numpy()
    return out
