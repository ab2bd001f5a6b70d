"""The File Store: find, parse, validate and hash a library's entries (any fsspec URL).

One module per job: :mod:`.discover` walks the tree once and finds entries wherever they
are (:mod:`.selection` applies sitegen.toml's include/exclude globs); :mod:`.frontmatter`
splits and loads YAML; :mod:`.rules` holds the Agent Skills spec and Persona's role format,
:mod:`.fields` the field readers they share; :mod:`.agents` the single-file agent format;
:mod:`.gitdates` dates entries from one `git log`; :mod:`.files` reads an entry's files and
:mod:`.entries` turns them into an Entry; :mod:`.store` ties them together as
:class:`Library`.
"""

from sitegen.library.model import (
    DEFINITION_FILES,
    FORMATS,
    KIND_OF_FORMAT,
    KINDS,
    EmptyLibraryError,
    Entry,
    FileInfo,
    Format,
    Kind,
    Level,
    LibraryConfigError,
    LibraryError,
    LibraryReport,
    Problem,
    Scan,
    compute_etag,
)
from sitegen.library.store import Library

__all__ = [
    "DEFINITION_FILES",
    "FORMATS",
    "KINDS",
    "KIND_OF_FORMAT",
    "EmptyLibraryError",
    "Entry",
    "FileInfo",
    "Format",
    "Kind",
    "Level",
    "Library",
    "LibraryConfigError",
    "LibraryError",
    "LibraryReport",
    "Problem",
    "Scan",
    "compute_etag",
]
