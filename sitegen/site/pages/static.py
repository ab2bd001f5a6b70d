"""Files published as they are: the index's Parquet files, the theme's assets, highlight.css."""

from __future__ import annotations

import hashlib

from sitegen.markdown import pygments_css
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, const, key_of


def _sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def plan_index_files(model: SiteModel, out: Outputs) -> None:
    for name, blob in sorted(model.data.index_files.items()):
        out.add(model.urls.index_file(name), key_of("bytes", _sha256(blob)), const(blob))


def plan_pass_through(model: SiteModel, out: Outputs) -> None:
    """Files published as they are (the catalog's model): keyed by their sha256, so they are
    read and written only when they change."""
    for item in model.data.files:
        out.add(item.path, key_of("file", item.sha256), item.read)


def plan_nojekyll(out: Outputs) -> None:
    # GitHub Pages (Jekyll) would hide .well-known/ without this marker.
    out.add(".nojekyll", key_of("empty"), lambda: b"")


def plan_assets(model: SiteModel, out: Outputs) -> None:
    for name, source in sorted(model.theme.assets.items()):
        blob = source.read_bytes()
        out.add(model.urls.asset(name), key_of("asset", _sha256(blob)), const(blob))
    css = pygments_css().encode("utf-8")
    out.add(model.urls.asset("highlight.css"), key_of("asset", _sha256(css)), const(css))
