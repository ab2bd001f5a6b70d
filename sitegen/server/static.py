"""The built site's files: `index.html` for folders, the theme's `404.html`, nothing outside the
folder, and no directory listings (Starlette's StaticFiles in html mode does all of that).

What it changes: a folder asked for without its slash is redirected with a *relative*
location. Starlette builds an absolute URL from the request's Host header, which lets anyone
who can set that header (a cache in front, a crafted link) send visitors elsewhere; a relative
one also stays right behind a proxy that serves the site under a path prefix.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


def slash_location(scope: Scope) -> str:
    """`./<last segment>/` (plus the query): relative to the requested URL, so it holds under
    any host and any path prefix a proxy adds, and can never name another host."""
    last = scope["path"].rstrip("/").rsplit("/", 1)[-1]
    location = "./" + quote(last, safe=":@!$&'()*+,;=-._~") + "/"
    query = scope.get("query_string", b"")
    return location + ("?" + query.decode("latin-1") if query else "")


class SiteFiles(StaticFiles):
    """Static files of the built site, with host-free redirects."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if isinstance(response, RedirectResponse):
            return RedirectResponse(slash_location(scope), status_code=response.status_code)
        return response
