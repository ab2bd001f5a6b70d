"""What a build reports, and how it fails: one line, nothing published."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.errors import SitegenError, UsageError
from sitegen.indexer import IndexResult
from sitegen.library import Problem

Log = Callable[[str], None]
Progress = Callable[[int, int], None]


class BuildError(SitegenError):
    """The build failed; nothing was published. The message is one line."""


class BuildUsageError(BuildError, UsageError):
    """The build was asked for something unsafe or impossible (exit 2)."""

    exit_code = 2


@dataclass
class WriteResult:
    pages_written: int = 0
    pages_unchanged: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    removed: int = 0
    kept: str | None = None  # one line about files in --out that sitegen did not write


@dataclass
class BuildResult:
    out: Path | str
    entries: int
    skipped: int
    index: IndexResult | None
    write: WriteResult
    seconds: float
    published: bool
    problems: Sequence[Problem] = field(default_factory=tuple)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # lines for the log (kept files, backend)

    def summary(self) -> str:
        w = self.write
        pages = f"{w.pages_written} page(s) written, {w.pages_unchanged} unchanged"
        files = f"{w.files_written} other file(s) written, {w.files_unchanged} unchanged"
        if w.removed:
            files += f", {w.removed} removed"
        state = "built" if self.published else "up to date, nothing rewritten"
        skipped = f" ({self.skipped} left out with errors)" if self.skipped else ""
        return (
            f"{self.out}: {state}: {self.entries} entries{skipped}; {pages}; {files}; "
            f"{self.seconds:.2f} s"
        )
