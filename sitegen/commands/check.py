"""`sitegen check`: the library's problems (warnings as errors under --strict), or its
colliding pairs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sitegen.collisions import CollisionReport, find_collisions
from sitegen.commands.library import open_library, read_library
from sitegen.embedder import load_embedder
from sitegen.library import Library, LibraryReport, Problem

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress


@dataclass(frozen=True)
class CheckResult:
    library: Library
    report: LibraryReport
    problems: tuple[Problem, ...]
    strict: bool

    @property
    def errors(self) -> int:
        return sum(p.level == "error" for p in self.problems)

    def summary(self) -> str:
        return f"{self.library.display_root}: {self.report.summary(strict=self.strict)}"


def check(
    url: str | None, *, strict: bool = False, flags: Mapping[str, Any] | None = None
) -> CheckResult:
    """Read and validate the library; under `strict` warnings become errors (notes never)."""
    library = open_library(url, flags=flags)
    report = read_library(library)
    problems = tuple(
        replace(p, level="error") if strict and p.level == "warning" else p for p in report.problems
    )
    return CheckResult(library, report, problems, strict)


def check_collisions(
    url: str | None,
    *,
    max_distance: float,
    model: str | None = None,
    flags: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> CollisionReport:
    """Pairs of valid entries within `max_distance`, from stored vectors where the index is
    fresh and fresh embeddings elsewhere; nothing is written."""
    from sitegen.indexer import current_vectors

    library = open_library(url, flags=flags)
    entries = read_library(library).entries
    embedder = load_embedder(model, progress=progress)
    vectors = current_vectors(library, entries, embedder)
    found = find_collisions(
        [(e.kind, e.name, e.description) for e in entries], vectors, max_distance=max_distance
    )
    return CollisionReport(library.display_root, len(entries), tuple(found), max_distance)
