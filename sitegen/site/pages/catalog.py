"""catalog.json: every entry with its details, for scripts and agents."""

from __future__ import annotations

import posixpath
from typing import Any

from sitegen import __version__
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, json_bytes, key_of
from sitegen.site.pages.entry import detail
from sitegen.urls import relative


def catalog(model: SiteModel) -> dict[str, Any]:
    u = model.urls
    path = u.catalog()
    return {
        "generator": f"sitegen {__version__}",
        "counts": {
            "roles": sum(e.kind == "roles" for e in model.entries),
            "skills": sum(e.kind == "skills" for e in model.entries),
        },
        # The index generation this site carries: its pointer and Parquet files.
        "index": {
            posixpath.basename(name).split(".")[0]: relative(path, u.index_file(name))
            for name in sorted(model.data.index_files)
        },
        "entries": [detail(model, source).catalog_json(path) for source in model.sources.values()],
    }


def plan(model: SiteModel, out: Outputs) -> None:
    path = model.urls.catalog()
    digests = list(model.digests.values())
    key = key_of(model.theme.fingerprint, path, sorted(model.data.index_files), digests)
    out.add(path, key, lambda: json_bytes(catalog(model)))
