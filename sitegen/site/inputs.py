"""What the site is made of and how it is configured: plain data handed in by the build."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.collisions import Collision
from sitegen.entry import Record
from sitegen.errors import SitegenError
from sitegen.library import Entry


class SiteError(SitegenError):
    """The site could not be rendered; the message is one line naming the cause."""


@dataclass(frozen=True)
class Similar:
    """Another entry close to this one in embedding space."""

    kind: str
    name: str
    description: str
    distance: float


@dataclass(frozen=True)
class SemanticInput:
    """What the build hands the site for in-browser semantic search (plain data)."""

    design: str  # "browser" (the ONNX model in onnxruntime-web) or "static" (model2vec)
    fingerprint: str
    rows: Sequence[tuple[str, str, str]]  # (kind, name, description), row order of `vectors`
    vectors: np.ndarray  # float32 (n, dims), unit rows
    vocab: Sequence[str]
    tokenizer: Mapping[str, object]  # WordPiece settings (lowercase, ids of CLS/SEP/UNK, ...)
    model: bytes = b""  # browser: the ONNX graph
    runtime: Mapping[str, Path] = field(default_factory=dict)  # browser: onnxruntime-web files
    tokens: np.ndarray | None = None  # static: float32 (vocab, dims)


@dataclass(frozen=True)
class SiteOptions:
    base_url: str | None = None
    api_url: str | None = None
    semantic: str | None = None  # in-browser semantic search: "browser", "static" or None
    templates: Path | None = None
    title: str = "Agent roles & skills"


@dataclass(frozen=True)
class PassThrough:
    """A file published as it is (the catalog's model), read only when it must be written."""

    path: str  # site-relative, POSIX
    sha256: str
    read: Callable[[], bytes]


@dataclass
class SiteInput:
    """Everything the site is made of, as plain data (the site knows nothing of the index)."""

    entries: Sequence[Entry]
    read_files: Callable[[Entry], Mapping[str, bytes]]
    similar: Mapping[tuple[str, str], Sequence[Similar]] = field(default_factory=dict)
    # Pairs of entries so close in embedding space that an agent may pick the wrong one.
    collisions: Sequence[Collision] = field(default_factory=tuple)
    updated: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)
    # Tags derived from the keyword taxonomy, for entries whose author wrote none.
    derived_tags: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # The index's records (uuid, dates, derived tags), when the build has an index.
    records: Mapping[tuple[str, str], Record] = field(default_factory=dict)
    index_files: Mapping[str, bytes] = field(default_factory=dict)
    # Files published as they are, e.g. the query-time model the index was made with.
    files: Sequence[PassThrough] = field(default_factory=tuple)
    # In-browser semantic search (files under semantic/), when options.semantic asks for it.
    semantic: SemanticInput | None = None
    # Opaque data the caller wants back next build (kept in the manifest as "cache").
    cache: Mapping[str, Any] = field(default_factory=dict)
