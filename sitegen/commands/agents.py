"""Catalogs for agents: which catalog a command means, and the MCP server over it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.catalog import CATALOG_JSON, default_catalog, open_catalog
from sitegen.errors import SitegenError, UsageError

if TYPE_CHECKING:
    from sitegen.embedder import Embedder
    from sitegen.library import Library


def catalog_location(value: str | None, *, fallback_to_library: bool = False) -> str:
    """The catalog named by a flag, else $SITEGEN_CATALOG, else ./sitegen.toml's `catalog`."""
    found = value or default_catalog(fallback_to_library=fallback_to_library)
    if not found:
        raise UsageError(
            "no catalog named: pass --from PATH_OR_URL, set $SITEGEN_CATALOG, or put "
            'catalog = "..." in ./sitegen.toml'
        )
    return found


def mcp_module() -> Any:
    """The MCP server module; its SDK is a runtime dependency, so say so if it went missing."""
    try:
        import sitegen.mcp as module
    except ImportError as exc:
        raise UsageError(
            f"the MCP server needs the `mcp` package ({exc}); pip install 'mcp>=2.3,<3'"
        ) from exc
    return module


def run_mcp(library: str | None, *, model: str | None = None) -> None:
    """`sitegen mcp`: serve a catalog over stdio until the client goes away."""
    location = catalog_location(library, fallback_to_library=True)
    mcp_module().run_stdio(location, model=model)


def mcp_http_app(
    library: Library, site_dir: str, embedder: Embedder, host: str, warn: Any = None
) -> Any:
    """The /mcp app for `serve`: over the built site when there is one, else the library;
    None (after a warning) when neither is a catalog."""
    location = site_dir if (Path(site_dir) / CATALOG_JSON).is_file() else library.url
    try:
        catalog = open_catalog(location)
    except SitegenError as exc:
        if warn is not None:
            warn(f"warning: no MCP endpoint ({exc})")
        return None
    return mcp_module().http_app(location, catalog=catalog, embedder=embedder, host=host)
