"""Test session setup: no network, and every Hugging Face cache in a throwaway folder."""

from __future__ import annotations

import os
import tempfile

# Set before anything imports datasets / huggingface_hub, which read these at import time.
_CACHE = tempfile.mkdtemp(prefix="xstilts-test-hf-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HOME"] = _CACHE
os.environ["HF_DATASETS_CACHE"] = os.path.join(_CACHE, "datasets")
os.environ["XSTILTS_CACHE"] = os.path.join(_CACHE, "xstilts")
os.environ.setdefault("NO_COLOR", "1")
