"""`sitegen build`: read → index → render → publish, as one generation of index and site.

- The library is read and checked; entries with errors are left out (``strict`` fails instead).
- Under the index lock and the --out lock (:mod:`sitegen.locks`), leftovers of dead runs are
  healed first (:mod:`sitegen.publish`, :func:`sitegen.metastore.sweep_index`).
- The index step runs incrementally (only changed entries are embedded) and writes a new
  index generation, but does not switch `index/current.json` to it yet.
- The site is planned against the previous build's manifest. If nothing changed, the build
  stops there and the published folder is not touched at all.
- Otherwise only changed outputs are rendered, and the site is published as one generation
  (:mod:`sitegen.publish`); the site carries the index generation it was built from, so pages
  and the API reading the site's index switch together. Unchanged files keep their inode and
  mtime; files sitegen did not write are kept.
- Only then does the library's index switch to the new generation. On any failure (or a kill)
  before that, the new generation is simply abandoned and swept by the next run: the previous
  site and index stay as they were.

Rooms: :mod:`.pipeline` (the transaction, :func:`build_site`), :mod:`.inputs` (what the site
is made of), :mod:`.similar` (similar entries and collisions, cached by index digest),
:mod:`.site_stage` (plan, render, commit: :func:`publish_site`), :mod:`.results`.
"""

from __future__ import annotations

from sitegen.build.inputs import read_entry_files
from sitegen.build.pipeline import build_site
from sitegen.build.results import (
    BuildError,
    BuildResult,
    BuildUsageError,
    Log,
    Progress,
    WriteResult,
)
from sitegen.build.similar import (
    SIMILAR_LIMIT,
    SIMILAR_MAX_DISTANCE,
    nearest_neighbours,
    record_collisions,
)
from sitegen.build.site_stage import publish_site

__all__ = [
    "SIMILAR_LIMIT",
    "SIMILAR_MAX_DISTANCE",
    "BuildError",
    "BuildResult",
    "BuildUsageError",
    "Log",
    "Progress",
    "WriteResult",
    "build_site",
    "nearest_neighbours",
    "publish_site",
    "read_entry_files",
    "record_collisions",
]
