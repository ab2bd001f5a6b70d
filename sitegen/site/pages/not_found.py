"""The 404 page (served for any missing path, so its links are absolute with a base URL)."""

from __future__ import annotations

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.views import NotFoundView


def plan(model: SiteModel, out: Outputs) -> None:
    u = model.urls
    view = NotFoundView(home=u.home(), home_absolute=u.absolute(u.home()))
    out.page("404.html", u.not_found(), (), lambda: view)
