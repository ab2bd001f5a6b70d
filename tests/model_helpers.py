"""Test-only model helpers: the fp32 sentence-transformers ground truth (imports torch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from sitegen.model_cache import DIM, resolve_model_dir, weights_file

_REFERENCE_MODELS: dict[str, Any] = {}


def reference_embed(
    texts: Sequence[str], model_path: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """fp32 sentence-transformers vectors: the ground truth the int8 model is measured against."""
    if isinstance(texts, str):
        raise TypeError("reference_embed() takes a sequence of strings, not a single string")
    items = list(texts)
    if not items:
        return np.zeros((0, DIM), dtype=np.float32)
    model_dir = resolve_model_dir(model_path)
    weights_file(model_dir)
    key = str(model_dir.resolve())
    model = _REFERENCE_MODELS.get(key)
    if model is None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()
        model = SentenceTransformer(key, device="cpu", local_files_only=True)
        _REFERENCE_MODELS[key] = model
    vectors = model.encode(
        items,
        batch_size=32,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
