"""The catalog's entries as MCP resources: `sitegen://skills/<name>`, `sitegen://roles/<name>`,
and `sitegen://catalog` (build id, model fingerprint, counts). An entry's text is served
verbatim as data, never as instructions of this server.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import Resource as MCPResource

from sitegen.catalog import CatalogInfo, EntryNotFound
from sitegen.entry import SINGULAR
from sitegen.errors import SitegenError
from sitegen.mcp.backend import Backend


def resource_uri(kind: str, name: str) -> str:
    return f"sitegen://{kind}/{name}"


class CatalogServer(MCPServer):
    """MCPServer whose resource list is the catalog's entries, read when first asked for."""

    backend: Backend

    async def list_resources(self) -> list[MCPResource]:
        import anyio.to_thread

        listed = await super().list_resources()
        try:
            entries = await anyio.to_thread.run_sync(lambda: self.backend.catalog().entries())
        except SitegenError as exc:
            raise ResourceError(str(exc)) from exc
        return listed + [
            MCPResource(
                uri=resource_uri(e.kind, e.name),
                name=e.name,
                title=f"{e.name} ({SINGULAR[e.kind]})",
                description=e.description,
                mime_type="text/markdown",
            )
            for e in entries
        ]


def add_resources(server: CatalogServer) -> None:
    """One resource template per kind, read through the server's backend, and the catalog's
    identity."""
    backend = server.backend

    def read_entry(kind: str) -> Callable[[str], str]:
        def read(name: str) -> str:
            try:
                return backend.catalog().get(kind, name).definition
            except EntryNotFound as exc:
                raise ResourceNotFoundError(str(exc)) from exc
            except SitegenError as exc:
                raise ResourceError(str(exc)) from exc

        return read

    for kind in ("skills", "roles"):
        server.resource(
            f"sitegen://{kind}/{{name}}",
            name=kind,
            title=f"A {SINGULAR[kind]}'s definition",
            description=f"The definition file of the {SINGULAR[kind]} <name>, verbatim.",
            mime_type="text/markdown",
        )(read_entry(kind))

    @server.resource(
        "sitegen://catalog",
        name="catalog",
        title="Catalog identity",
        description="Where the catalog is, its index build id, embedding model fingerprint "
        "and entry counts (JSON).",
        mime_type="application/json",
    )
    def catalog_resource() -> str:
        try:
            info: CatalogInfo = backend.catalog().info()
        except SitegenError as exc:
            raise ResourceError(str(exc)) from exc
        return json.dumps(info.as_dict(), indent=2)
