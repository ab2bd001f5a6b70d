"""`sitegen mcp`: a catalog's roles and skills as MCP tools and resources for agents.

Built on the official MCP Python SDK (`MCPServer`, typed tools with structured output). The
same server runs over stdio (`sitegen mcp`) and over streamable HTTP at `/mcp` in
`sitegen serve`. Tools: `match` (the one `search.match()`, identical to `sitegen match
--json`), `get` (an entry's definition text and files), `list` (by type and tag) and `install`
(over stdio it installs on this machine; over HTTP it only says how, since the server's disk
is not the caller's). Every entry is a resource `sitegen://skills/<name>` or
`sitegen://roles/<name>`; `sitegen://catalog` reports the build id and model fingerprint.

Start-up stays light: no model, no DuckDB, and for an http(s) catalog not even a request
until the first call. The model loads on the first `match`.

Entry text is untrusted: it only ever travels as string values inside JSON results (or as a
resource's text), never as instructions of this server.

One module per job: :mod:`.server` (wiring, stdio, HTTP), :mod:`.tools` (the four tools),
:mod:`.resources` (entries as resources), :mod:`.results` (typed results), :mod:`.backend`
(catalog and model, opened on first use).
"""

from sitegen.mcp.server import create_server, http_app, run_stdio

__all__ = ["create_server", "http_app", "run_stdio"]
