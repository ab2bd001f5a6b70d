"""Where a prepared model lives: no torch, no onnxruntime.

A prepared model is a folder in the cache, named after its :class:`Fingerprint`, holding
``model.onnx`` (int8), ``tokenizer.json``, the taxonomy vectors and ``manifest.json`` (written
last: a folder with a manifest is complete). This module names and checks prepared folders, and
installs a freshly built folder atomically so concurrent processes never see half a model.
Which weights are prepared, and what they hash to, is :mod:`sitegen.model_weights`. Both the
query side (:mod:`sitegen.embedder`) and preparation (:mod:`sitegen.model_prepare`) build on it.
"""

from __future__ import annotations

import contextlib
import hashlib
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

from sitegen.entry import DIM as DIM  # re-exported: the embedder, taxonomy and browser bundle
from sitegen.errors import UsageError

POOLING = "mean+l2"
# Bump the trailing version whenever the export/quantization recipe changes: it is part of the
# cache folder name and of the fingerprint stored in search indexes.
QUANTIZATION = "onnx-int8-dynamic-qint8-perchannel-ffnsmooth4x2-v1"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
FP32_DIR = "fp32"  # the fine-tuned fp32 weights, when the model was tuned
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


# --- the cache root -------------------------------------------------------------------------


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Cache root: argument, else $SITEGEN_CACHE_DIR, else the platform user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SITEGEN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("sitegen"))


# --- files: hashing, whole writes, JSON ----------------------------------------------------


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
