"""The search page: Pagefind in the browser, plus the semantic API when one is announced."""

from __future__ import annotations

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.semantic import MANIFEST
from sitegen.site.views import SearchView


def plan(model: SiteModel, out: Outputs) -> None:
    u = model.urls
    bundle = model.data.semantic
    view = SearchView(
        pagefind=u.pagefind_script(),
        api=model.options.api_url,
        catalog=u.catalog(),
        semantic=MANIFEST if bundle is not None else None,
    )
    out.page("search.html", u.search(), (view.semantic,), lambda: view)
