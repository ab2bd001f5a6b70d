"""What preparation's steps share: the progress protocol, the work record, the calibration
sentences, and a context that silences the exporters' chatter.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sitegen.embedder import Embedder
from sitegen.model_weights import ModelSource

# Calibration sentences: used to find activation outlier channels and to check the export.
CALIBRATION_TEXTS = (
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


class Progress(Protocol):
    """Where preparation reports its steps (a terminal bar, CI log lines, or nothing)."""

    def preparing(self, folder: Path) -> None: ...

    def prepared(self, folder: Path, seconds: float) -> None: ...

    def begin(self, step: str, total: int | None) -> None: ...

    def advance(self, done: int) -> None: ...

    def end(self, step: str, seconds: float) -> None: ...


class Silent:
    """A Progress that shows nothing (library callers, tests)."""

    def preparing(self, folder: Path) -> None:
        pass

    def prepared(self, folder: Path, seconds: float) -> None:
        pass

    def begin(self, step: str, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def end(self, step: str, seconds: float) -> None:
        pass


@dataclass
class Work:
    """What the steps hand each other: the source, the output folder and the torch objects."""

    source: ModelSource
    out_dir: Path
    progress: Progress
    timings: dict[str, float] = field(default_factory=dict)
    model: Any = None
    tokenizer: Any = None
    wrapper: Any = None
    reference: Any = None
    peaks: dict[str, Any] = field(default_factory=dict)
    ffn: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    prepared: Embedder | None = None

    @contextlib.contextmanager
    def step(self, name: str, total: int | None = None) -> Iterator[None]:
        self.progress.begin(name, total)
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.timings[name] = round(seconds, 2)
        self.progress.end(name, seconds)


@contextlib.contextmanager
def quiet_preparation() -> Iterator[None]:
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
