"""`sitegen serve`: the built site and the match API, optionally rebuilt as the library changes.

Like MkDocs' `commands/serve.py`, this wires the rooms together and nothing else: the build
(`sitegen.build`), the watcher (`sitegen.watch`), the app (`sitegen.server`) and the MCP
endpoint (`sitegen.mcp`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.commands.agents import mcp_http_app
from sitegen.commands.build import site_options
from sitegen.commands.library import open_library, output_folder, settings
from sitegen.embedder import Embedder, load_embedder, load_embedder_for
from sitegen.errors import SitegenError, UsageError
from sitegen.indexer import open_store
from sitegen.library import Library, Problem
from sitegen.metastore import MetaStoreError
from sitegen.urls import API_MATCH

if TYPE_CHECKING:
    from sitegen.model_prepare import Progress
    from sitegen.watch import Rebuilder

Say = Callable[[str], None]


def served_embedder(
    library: Library, site_dir: str, model: str | None, progress: Progress | None = None
) -> Embedder:
    """The model of the index the server will answer from (the served site's own index, else
    the library's), which the served site may carry; else the default one."""
    from sitegen.metastore import MetaStore
    from sitegen.server import IndexLocation

    location = IndexLocation.for_site(site_dir)
    try:
        if location is not None:
            with MetaStore.open(location.fs, location.path, location=location.display) as store:
                fingerprint = store.fingerprint
        else:
            with open_store(library, writable=False) as store:
                fingerprint = store.fingerprint
    except MetaStoreError:
        fingerprint = None
    if not fingerprint:
        return load_embedder(model, progress=progress)
    return load_embedder_for(
        fingerprint, sources=(site_dir, library.url), model_path=model, progress=progress
    )


def watch_and_rebuild(
    library: Library,
    site_dir: str,
    embedder: Embedder,
    *,
    say: Say,
    on_problems: Callable[[tuple[Problem, ...]], None],
) -> Rebuilder:
    """Build once, then rebuild after every burst of library changes; the served pages ask
    the same server's match API. The first build must succeed; later failures keep the last
    good site."""
    from sitegen.build import build_site
    from sitegen.watch import Rebuilder

    if not library.is_local:
        raise UsageError("--watch needs a library folder on this machine")

    def rebuild() -> None:
        fresh = Library(library.url, ignore=(site_dir,))  # re-reads sitegen.toml too
        options = replace(site_options(fresh, fresh.config), api_url=API_MATCH)
        result = build_site(fresh, embedder, site_dir, options=options)
        on_problems(tuple(result.problems))
        say(f"sitegen: rebuilt: {result.summary()}")

    ignore = [Path(library.root) / "index", Path(site_dir)]
    rebuilder = Rebuilder(Path(library.root), rebuild, ignore=ignore)
    if not rebuilder.rebuild():
        raise SitegenError("the first build failed; fix the library and try again")
    rebuilder.start()
    return rebuilder


def serve(
    url: str | None,
    *,
    site_dir: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    watch: bool = False,
    model: str | None = None,
    say: Say,
    on_problems: Callable[[tuple[Problem, ...]], None],
    model_progress: Progress | None = None,
) -> None:
    """Serve until interrupted: the site folder, /api/, /healthz and /mcp."""
    from sitegen.server import address_of, bind, create_app, serve_app

    library = open_library(url)  # a library that cannot be used says so, whatever the port
    sock = bind(host, port)  # before the model: a taken port is one line and exit 2 at once
    folder = site_dir or output_folder(library, settings(library))
    if watch:
        embedder = load_embedder(model, progress=model_progress)
        rebuilder: Rebuilder | None = watch_and_rebuild(
            library, folder, embedder, say=say, on_problems=on_problems
        )
    else:
        embedder = served_embedder(library, folder, model, model_progress)
        rebuilder = None
    if not Path(folder).is_dir():
        say(f"warning: no site at {folder}/; serving the API only (run `sitegen build` first)")
    app = create_app(
        library,
        embedder,
        site_dir=folder,
        live_reload=rebuilder.current if rebuilder else None,
        mcp_app=mcp_http_app(library, folder, embedder, host, warn=say),
    )
    say(f"sitegen: serving {address_of(sock)} (API under /api/, MCP at /mcp)")
    try:
        serve_app(app, sock)
    finally:
        if rebuilder is not None:
            rebuilder.stop()
