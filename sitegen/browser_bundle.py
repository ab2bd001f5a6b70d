"""The build's side of in-browser semantic search: the site's SemanticInput from the index.

Glue between the model (:mod:`sitegen.browser_model`) and the site (:mod:`sitegen.site.semantic`):
entry vectors come from the index for the ``browser`` design (the browser runs the same model)
and from the static model for ``static``; onnxruntime-web comes from the vendored copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sitegen.browser_model import (
    browser_model_file,
    static_model,
    wordpiece,
)
from sitegen.embedder import Embedder
from sitegen.metastore import Record
from sitegen.model_cache import DIM, TOKENIZER_FILE, EmbedderError, resolve_cache_dir
from sitegen.site.inputs import SemanticInput
from sitegen.site.semantic import DESIGNS

RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")


def runtime_dir() -> Path:
    """onnxruntime-web as vendored: inside the wheel, or the repository's vendor/ folder."""
    package = Path(__file__).resolve().parent
    packaged = package / "vendor" / "onnxruntime-web"
    if packaged.is_dir():
        return packaged
    return package.parent / "vendor" / "onnxruntime-web" / "dist"


def runtime_files() -> dict[str, Path]:
    """The vendored files, checked against the SHA256SUMS written when they were vendored."""
    folder = runtime_dir()
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        raise EmbedderError(f"{folder}: onnxruntime-web is not vendored (vendor/*/refresh.sh)")
    sums: dict[str, str] = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    files = {}
    for name in RUNTIME_FILES:
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sums.get(name):
            raise EmbedderError(f"{path}: missing or not the vendored onnxruntime-web file")
        files[name] = path
    return files


def semantic_input(
    design: str, embedder: Embedder, records: Sequence[Record], cache_dir: Path | None = None
) -> SemanticInput:
    """Everything the site publishes for in-browser semantic search with `design`."""
    if design not in DESIGNS:
        raise EmbedderError(f"semantic: unknown design {design!r} (one of {', '.join(DESIGNS)})")
    cache_root = resolve_cache_dir(cache_dir)
    fingerprint = embedder.fingerprint.as_string()
    ordered = sorted(records, key=lambda r: (r.kind, r.name))
    rows = [(r.kind, r.name, r.description) for r in ordered]
    tokens = wordpiece(embedder.model_dir, embedder.max_seq_length)
    if design == "browser":
        missing = [r.name for r in ordered if r.embedding is None]
        if missing:
            raise EmbedderError(f"semantic: {missing[0]} has no vector in the index")
        vectors = np.zeros((len(ordered), DIM), dtype=np.float32)
        for row, record in enumerate(ordered):
            vectors[row] = np.asarray(record.embedding, dtype=np.float32)
        model = browser_model_file(embedder.model_dir, fingerprint, cache_root).read_bytes()
        return SemanticInput(
            design, fingerprint, rows, vectors, tokens.vocab, tokens.config(),
            model=model, runtime=runtime_files(),
        )  # fmt: skip
    static = static_model(embedder.model_dir, fingerprint, cache_root)
    texts = [r.embedded_text or r.description for r in ordered]
    vectors = static.embed(static_ids(embedder.model_dir, texts))
    return SemanticInput(
        design, fingerprint, rows, vectors, tokens.vocab, tokens.config(), tokens=static.vectors
    )


def static_ids(model_dir: Path, texts: Sequence[str]) -> list[list[int]]:
    """Token ids as the browser's WordPiece makes them for the static model: no [CLS]/[SEP],
    no truncation (a static model has no sequence limit)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return [e.ids for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]
