"""What a browser runs for semantic search on a static site, made once per model and cached.

Two designs (measured in BENCHMARKS.md, "Semantic search in the browser"):

- ``browser`` — the prepared int8 ONNX graph itself, run by onnxruntime-web. Only its word
  and position embedding tables change: they are the one part of the graph still in float32
  (47 MB of its 59), so they are stored 4-bit (word, groups of 64) and 8-bit (positions) and
  dequantized by Cast/Mul nodes that onnxruntime folds into constants when the session loads.
  Same tokenizer, same layers, same pooling: the browser's vectors are the CLI's within
  quantization noise (cosine >= 0.99 to the CLI's vector, same top-1 on the example queries).
- ``static`` — a model2vec distillation of the prepared model's fp32 weights (needs the
  build extra): one vector per vocabulary token; a text's vector is the mean of its tokens'.
  Entry vectors are made with the same static model, since the two spaces differ.

The cache holds the results under ``<cache>/browser/<model key>-<recipe>/`` (manifest last,
as for prepared models), so a build pays for them once per model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.model_cache import (
    FP32_DIR,
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    EmbedderError,
    building,
    read_json,
)

BROWSER_RECIPE = "ort-w4g64-p8-v1"  # bump when the browser graph's recipe changes
STATIC_RECIPE = "m2v-pca256-v1"  # bump when the distillation's settings change
STATIC_DIMS = 256
WORD_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"
POSITION_EMBEDDINGS = "encoder.embeddings.position_embeddings.weight"
WORD_GROUP = 64  # 4-bit groups along the 384 dims: 6 scales per token


def model_key(fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class WordPiece:
    """The tokenizer settings the browser's WordPiece needs (BERT uncased), and its vocab."""

    vocab: tuple[str, ...]
    lowercase: bool
    max_length: int
    cls_id: int
    sep_id: int
    unk_id: int
    max_chars_per_word: int

    def config(self) -> dict[str, object]:
        return {
            "lowercase": self.lowercase,
            "max_length": self.max_length,
            "cls": self.cls_id,
            "sep": self.sep_id,
            "unk": self.unk_id,
            "max_chars_per_word": self.max_chars_per_word,
        }


def wordpiece(model_dir: Path, max_length: int) -> WordPiece:
    """The prepared model's tokenizer as plain data; refuses anything but BERT WordPiece."""
    path = model_dir / TOKENIZER_FILE
    data = read_json(path)
    model = data.get("model") or {}
    normalizer = data.get("normalizer") or {}
    if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
        raise EmbedderError(f"{path}: the browser tokenizer supports BERT WordPiece only")
    vocab_map: dict[str, int] = model["vocab"]
    vocab = [""] * len(vocab_map)
    for token, index in vocab_map.items():
        vocab[index] = token
    unk = str(model.get("unk_token", "[UNK]"))
    return WordPiece(
        vocab=tuple(vocab),
        lowercase=bool(normalizer.get("lowercase", True)),
        max_length=max_length,
        cls_id=vocab_map["[CLS]"],
        sep_id=vocab_map["[SEP]"],
        unk_id=vocab_map[unk],
        max_chars_per_word=int(model.get("max_input_chars_per_word", 100)),
    )


# -- design 1: the prepared graph, with compact embedding tables -------------------------------


def _quantize_groups(weights: np.ndarray, bits: int, group: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization per group of `group` columns: (codes int8, scales float16)."""
    rows, cols = weights.shape
    grouped = weights.reshape(rows, cols // group, group).astype(np.float32)
    top = (1 << (bits - 1)) - 1
    scales = np.abs(grouped).max(axis=2, keepdims=True) / top
    scales[scales == 0] = 1.0
    scales = scales.astype(np.float16).astype(np.float32)
    codes = np.clip(np.rint(grouped / scales), -top, top).astype(np.int8)
    return codes.reshape(rows, cols), scales.reshape(rows, cols // group).astype(np.float16)


def browser_graph(model_file: Path) -> bytes:
    """The prepared graph with 4-bit word and 8-bit position embeddings (see module doc)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_file))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    if WORD_EMBEDDINGS not in inits or POSITION_EMBEDDINGS not in inits:
        raise EmbedderError(f"{model_file}: not the prepared MiniLM graph (no embedding tables)")
    nodes = []
    for name, bits, group in ((WORD_EMBEDDINGS, 4, WORD_GROUP), (POSITION_EMBEDDINGS, 8, 384)):
        table = numpy_helper.to_array(inits[name])
        rows, cols = table.shape
        codes, scales = _quantize_groups(table, bits, group)
        graph.initializer.remove(inits[name])
        if bits == 4:  # two codes a byte: low nibble = even column, high nibble = odd column
            biased = (codes.astype(np.int16) + 8).astype(np.uint8)
            packed = (biased[:, 0::2] | (biased[:, 1::2] << 4)).astype(np.uint8)
            graph.initializer.extend(
                [
                    numpy_helper.from_array(packed, f"{name}.q4"),
                    numpy_helper.from_array(np.array([4], dtype=np.uint8), f"{name}.four"),
                    numpy_helper.from_array(np.array([8.0], dtype=np.float32), f"{name}.bias"),
                    numpy_helper.from_array(
                        np.array([rows, cols // group, group], dtype=np.int64), f"{name}.grouped"
                    ),
                    numpy_helper.from_array(
                        np.array([rows, cols], dtype=np.int64), f"{name}.shape"
                    ),
                ]
            )
            nodes += [
                # low = (b << 4) >> 4, high = b >> 4 (uint8 shifts), then interleave
                helper.make_node("BitShift", [f"{name}.q4", f"{name}.four"], [f"{name}.hi"],
                                 direction="RIGHT"),
                helper.make_node("BitShift", [f"{name}.q4", f"{name}.four"], [f"{name}.lo0"],
                                 direction="LEFT"),
                helper.make_node("BitShift", [f"{name}.lo0", f"{name}.four"], [f"{name}.lo"],
                                 direction="RIGHT"),
                helper.make_node("Unsqueeze", [f"{name}.lo", f"{name}.axis"], [f"{name}.lo3"]),
                helper.make_node("Unsqueeze", [f"{name}.hi", f"{name}.axis"], [f"{name}.hi3"]),
                helper.make_node("Concat", [f"{name}.lo3", f"{name}.hi3"], [f"{name}.pairs"],
                                 axis=2),
                helper.make_node("Reshape", [f"{name}.pairs", f"{name}.grouped"],
                                 [f"{name}.u8"]),
                helper.make_node("Cast", [f"{name}.u8"], [f"{name}.f"], to=TensorProto.FLOAT),
                helper.make_node("Sub", [f"{name}.f", f"{name}.bias"], [f"{name}.centered"]),
                helper.make_node("Cast", [f"{name}.scale16"], [f"{name}.scale"],
                                 to=TensorProto.FLOAT),
                helper.make_node("Unsqueeze", [f"{name}.scale", f"{name}.axis"],
                                 [f"{name}.scale3"]),
                helper.make_node("Mul", [f"{name}.centered", f"{name}.scale3"],
                                 [f"{name}.scaled"]),
                helper.make_node("Reshape", [f"{name}.scaled", f"{name}.shape"], [name]),
            ]
            graph.initializer.extend(
                [
                    numpy_helper.from_array(scales, f"{name}.scale16"),
                    numpy_helper.from_array(np.array([2], dtype=np.int64), f"{name}.axis"),
                ]
            )
        else:
            graph.initializer.extend(
                [
                    numpy_helper.from_array(codes, f"{name}.q8"),
                    numpy_helper.from_array(scales, f"{name}.scale16"),
                ]
            )
            nodes += [
                helper.make_node("Cast", [f"{name}.q8"], [f"{name}.f"], to=TensorProto.FLOAT),
                helper.make_node("Cast", [f"{name}.scale16"], [f"{name}.scale"],
                                 to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{name}.f", f"{name}.scale"], [name]),
            ]
    for node in reversed(nodes):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def _cached(folder: Path, make: dict[str, object]) -> Path:
    """`folder` if complete, else built by `make` (file name -> bytes or callable)."""
    if (folder / MANIFEST_FILE).is_file():
        return folder
    with building(folder) as tmp:
        files = {}
        for name, produce in make.items():
            data = produce() if callable(produce) else produce
            assert isinstance(data, bytes)
            (tmp / name).write_bytes(data)
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        (tmp / MANIFEST_FILE).write_text(json.dumps({"files": files}, indent=2) + "\n")
    return folder


def browser_model_file(model_dir: Path, fingerprint: str, cache_root: Path) -> Path:
    """The browser graph for a prepared model, made once and cached."""
    folder = cache_root / "browser" / f"{model_key(fingerprint)}-{BROWSER_RECIPE}"
    _cached(folder, {MODEL_FILE: lambda: browser_graph(model_dir / MODEL_FILE)})
    return folder / MODEL_FILE


# -- design 2: a static distilled model --------------------------------------------------------


@dataclass(frozen=True)
class StaticModel:
    """One unit-free vector per vocabulary id (rows of zeros for tokens model2vec dropped)."""

    vectors: np.ndarray  # float32 (vocab, dims)

    def embed(self, token_ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean of each text's token vectors, L2-normalised (what the browser computes)."""
        out = np.zeros((len(token_ids), self.vectors.shape[1]), dtype=np.float32)
        for row, ids in enumerate(token_ids):
            if len(ids):
                out[row] = self.vectors[np.asarray(ids, dtype=np.int64)].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.maximum(norms, 1e-12, out=norms)
        return out / norms


STATIC_FILE = "static.npy"


def static_model(model_dir: Path, fingerprint: str, cache_root: Path) -> StaticModel:
    """The model2vec distillation of the prepared model's fp32 weights, cached per model."""
    folder = cache_root / "browser" / f"{model_key(fingerprint)}-{STATIC_RECIPE}"
    _cached(folder, {STATIC_FILE: lambda: _distill(model_dir)})
    return StaticModel(np.load(folder / STATIC_FILE).astype(np.float32))


def _distill(model_dir: Path) -> bytes:
    import io

    source = model_dir / FP32_DIR
    if not source.is_dir():
        raise EmbedderError(
            f"{model_dir}: no fp32 weights to distil a static model from; the static design "
            "needs a model prepared on this machine (sitegen prepare)"
        )
    try:
        from model2vec.distill import distill
    except ImportError:
        raise EmbedderError(
            "--semantic static needs model2vec at build time: pip install 'sitegen[build]'"
        ) from None
    static = distill(str(source), pca_dims=STATIC_DIMS, quantize_to="float32")
    vocab = wordpiece(model_dir, 256).vocab
    index = {token: i for i, token in enumerate(vocab)}
    table = np.zeros((len(vocab), STATIC_DIMS), dtype=np.float32)
    weights = np.asarray(static.embedding, dtype=np.float32)
    for token, row in static.tokenizer.get_vocab().items():
        if token in index and row < len(weights):
            table[index[token]] = weights[row]
    buffer = io.BytesIO()
    np.save(buffer, table)
    return buffer.getvalue()
