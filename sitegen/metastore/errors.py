"""What can go wrong with the meta store, each a :class:`~sitegen.errors.SitegenError` whose
message names the file and the fault (one line, whatever DuckDB or fsspec raised)."""

from __future__ import annotations

from sitegen.errors import SitegenError


class MetaStoreError(SitegenError):
    """The index cannot be read or written; the message names the file and the fault."""


class NoIndexError(MetaStoreError):
    """There is no index yet where one was expected."""


class IndexUnreachableError(MetaStoreError):
    """The index's location cannot be reached at all (exit 2: the library cannot be used)."""

    exit_code = 2


class StaleSchemaError(MetaStoreError):
    """The index was written by an older sitegen; a write session upgrades it."""


def first_line(exc: BaseException) -> str:
    """One line for a message: the first, or the last of an embedded Python traceback (what
    DuckDB relays from an fsspec filesystem that failed)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]
