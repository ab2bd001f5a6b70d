"""Opening what a command names: the library with its `sitegen.toml` and flags, its entries."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sitegen.config import Config
from sitegen.library import Library, LibraryError, LibraryReport

LIBRARY_ENV = "SITEGEN_LIBRARY"


def library_location(url: str | None) -> str:
    """The library a command works on: the one named, else $SITEGEN_LIBRARY, else `.`."""
    return url or os.environ.get(LIBRARY_ENV) or "."


def open_library(
    url: str | None,
    *,
    flags: Mapping[str, Any] | None = None,
    index_only: bool = False,
    skip_out: bool = False,
) -> Library:
    """Open a library; a missing one is a usage error (exit 2), not a content problem.

    `index_only` commands read nothing but `index/`, which a published site over HTTP holds
    without its root being listable; the meta store then says plainly if there is no index.
    Other commands load `sitegen.toml` here, so a bad file stops them first. The library
    keeps the file's settings (its own `out` is never read as content); `flags` change what
    it reads (--max-file-size) and, with `skip_out`, the output folder it leaves out.
    """
    target = library_location(url)
    library = Library(target)
    if index_only:
        return library
    if not library.exists():
        raise LibraryError(f"{target}: no such library (folder not found)")
    chosen = settings(library, flags)
    ignore = (output_folder(library, chosen),) if skip_out else ()
    return Library(target, config=library.config, max_file_size=chosen.max_file_size, ignore=ignore)


def settings(library: Library, flags: Mapping[str, Any] | None = None) -> Config:
    """The library's `sitegen.toml` settings with the command's flags laid over them."""
    return library.config.with_flags(flags or {})


def output_folder(library: Library, chosen: Config) -> str:
    """Where `build` publishes and `serve` serves: --out, else sitegen.toml's, else ./site."""
    return chosen.path("out", library.root if library.is_local else None) or "site"


def read_library(library: Library) -> LibraryReport:
    """Read every entry; EmptyLibraryError (exit 2) when the walk found none at all."""
    report = library.read()
    report.require_entries()
    return report
