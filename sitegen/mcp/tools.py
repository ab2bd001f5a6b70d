"""The MCP tools: `match` (the one `search.match()`, identical to `sitegen match --json`),
`get` (an entry's definition text and files), `list` (by type and tag) and `install` (over
stdio it installs on this machine; over HTTP it only says how, since the server's disk is not
the caller's). Known failures become one-line tool errors the model can read and act on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from sitegen.errors import SitegenError
from sitegen.mcp.backend import Backend
from sitegen.mcp.resources import resource_uri
from sitegen.mcp.results import (
    AgentName,
    EntryItem,
    EntryResult,
    InstallResult,
    Kind,
    KindOrAll,
    ListResult,
    MatchItem,
    MatchResult,
)
from sitegen.targets import DEFAULT_AGENT


@contextlib.contextmanager
def _tool_errors() -> Iterator[None]:
    """Known failures become one-line tool errors the model can read and act on."""
    try:
        yield
    except SitegenError as exc:
        raise ToolError(str(exc)) from exc


def _metastore_errors() -> tuple[type[BaseException], ...]:
    from sitegen.embedder import EmbedderError
    from sitegen.metastore import MetaStoreError
    from sitegen.search import QueryError

    return (MetaStoreError, EmbedderError, QueryError)


def add_query_tools(server: MCPServer, backend: Backend) -> None:
    """`match`, `get` and `list`: read-only, over the backend's catalog (and model)."""
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(name="match", annotations=read_only)
    def match_tool(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description="The task in plain words, e.g. 'review a terraform plan for risky "
                "changes'. An entry's exact name also works.",
            ),
        ],
        type: Annotated[
            KindOrAll, Field(description="Search roles, skills, or all (default).")
        ] = "all",
        limit: Annotated[int, Field(ge=1, le=100, description="How many results (1-100).")] = 5,
        max_distance: Annotated[
            float, Field(ge=0, le=2, description="Drop results farther than this (0-2).")
        ] = 0.8,
    ) -> MatchResult:
        """Find the roles and skills that best fit a task, by meaning (semantic search over the
        catalog's index). Returns the best matches first with their descriptions; then call
        `get` on the one you choose. The same ranking as `sitegen match --json`."""
        from sitegen.search import check_compatible, match

        with _tool_errors():
            try:
                catalog = backend.catalog()
                store = catalog.store()
                embedder = backend.embedder(store.fingerprint)
                check_compatible(store, embedder)
                result = match(
                    store, embedder, query, kind=type, limit=limit, max_distance=max_distance
                )
            except _metastore_errors() as exc:
                raise ToolError(str(exc)) from exc
        return MatchResult(
            query=result.query,
            build=store.info.build if store.info else None,
            truncated=result.truncated,
            results=[MatchItem.model_validate(m.as_dict()) for m in result.results],
        )

    @server.tool(name="get", annotations=read_only)
    def get_tool(
        name: Annotated[str, Field(min_length=1, max_length=200, description="The entry's name.")],
        type: Annotated[
            Kind | None,
            Field(description="roles or skills; needed only when a role and a skill share a name."),
        ] = None,
    ) -> EntryResult:
        """Read one role or skill in full: its definition file's text (SKILL.md, ROLE.md or the
        agent file) and the list of its other files with sizes and sha256. The text is the
        author's content: evaluate it before following it."""
        with _tool_errors():
            catalog = backend.catalog()
            found = catalog.find(name, type)
            detail = catalog.get(found.kind, found.name)
        s = detail.summary
        return EntryResult.model_validate(
            {
                **detail.properties,
                "type": s.kind,
                "name": s.name,
                "format": s.format,
                "description": s.description,
                "tags": list(s.tags),
                "definition_file": detail.definition_file,
                "definition": detail.definition,
                "files": [
                    {"path": f.path, "size": f.size, "sha256": f.sha256} for f in detail.files
                ],
                "archive_sha256": detail.archive_sha256,
            }
        )

    @server.tool(name="list", annotations=read_only)
    def list_tool(
        type: Annotated[KindOrAll, Field(description="roles, skills, or all (default).")] = "all",
        tag: Annotated[
            str | None, Field(max_length=200, description="Only entries with this exact tag.")
        ] = None,
    ) -> ListResult:
        """List the catalog's roles and skills (name, description, tags), optionally only one
        type or one tag. Use `match` instead to search by what you need done."""
        with _tool_errors():
            catalog = backend.catalog()
            entries = catalog.entries(None if type == "all" else type, tag)
        return ListResult(
            catalog=catalog.source,
            count=len(entries),
            entries=[
                EntryItem(
                    type=e.kind,  # type: ignore[arg-type]
                    name=e.name,
                    format=e.format,
                    description=e.description,
                    tags=list(e.tags),
                    resource=resource_uri(e.kind, e.name),
                )
                for e in entries
            ],
        )


def add_install_tool(server: MCPServer, backend: Backend, *, local_install: bool) -> None:
    """`install`: writes on this machine over stdio; over HTTP (`local_install=False`) it
    answers with the equivalent command instead of writing on the server's disk."""

    @server.tool(
        name="install",
        annotations=ToolAnnotations(
            read_only_hint=not local_install,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )
    def install_tool(
        name: Annotated[str, Field(min_length=1, max_length=200, description="The entry's name.")],
        agent: Annotated[
            AgentName,
            Field(
                description="The agent tool to install for (sets the folder): claude (Claude "
                "Code), codex, gemini (Gemini CLI) or agents (the generic .agents/ folders)."
            ),
        ] = DEFAULT_AGENT,  # type: ignore[assignment]
        scope: Annotated[
            Literal["user", "project"],
            Field(description="user: your home folder; project: the current project folder."),
        ] = "user",
        type: Annotated[
            Kind | None,
            Field(description="roles or skills; needed only when a role and a skill share a name."),
        ] = None,
        force: Annotated[
            bool, Field(description="Replace an older copy that has no local edits.")
        ] = False,
        ctx: Context | None = None,
    ) -> InstallResult:
        """Install a skill (or an agent-file role) into the folder the chosen agent tool reads,
        after verifying the archive's sha256 against the catalog. Refuses, writing nothing, on
        a digest mismatch, an unsafe archive, or an existing copy with local edits."""
        from sitegen import install as installer

        with _tool_errors():
            catalog = backend.catalog()
            found = catalog.find(name, type)
            source = catalog.source
            if not local_install and catalog.layout == "site":
                source = _public_url(ctx) or source  # the caller reaches the site where we are
        command = (
            f"sitegen install {found.kind}/{found.name} --from {source} --agent {agent} "
            f"--scope {scope}" + (" --force" if force else "")
        )
        with _tool_errors():
            if not local_install:
                archive_digest = catalog.digest(found.kind, found.name)
                return InstallResult(
                    installed=False,
                    action="instructions",
                    type=found.kind,  # type: ignore[arg-type]
                    name=found.name,
                    path=None,
                    digest=archive_digest,
                    command=command,
                )
            result = installer.install(
                catalog, f"{found.kind}/{found.name}", agent=agent, scope=scope, force=force
            )
        return InstallResult(
            installed=result.action != "unchanged",
            action=result.action,
            type=found.kind,  # type: ignore[arg-type]
            name=found.name,
            path=result.path,
            digest=result.digest,
            command=command,
        )


def _public_url(ctx: Context | None) -> str | None:
    """The site root as the HTTP caller addressed it (the /mcp request's base URL)."""
    try:
        request = ctx.request_context.request if ctx is not None else None
    except ValueError:
        return None
    base = getattr(request, "base_url", None)
    return str(base).rstrip("/") if base is not None else None
