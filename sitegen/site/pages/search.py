"""The search page: Pagefind in the browser, fused with results by meaning (the server's API
when one is announced, else the in-browser model when the site was built with --semantic).

Beside it, ``search/names.json`` lists every entry's kind and name (a few bytes an entry), so
the page can offer "did you mean" for a misspelt name without loading the catalog.
"""

from __future__ import annotations

import json

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, const, key_of
from sitegen.site.semantic import MANIFEST
from sitegen.site.views import SearchView


def plan(model: SiteModel, out: Outputs) -> None:
    u = model.urls
    view = SearchView(
        pagefind=u.pagefind_script(),
        api=model.options.api_url,
        catalog=u.catalog(),
        names=u.search_names(),
        semantic=MANIFEST if model.data.semantic is not None else None,
    )
    out.page("search.html", u.search(), (view.names, view.semantic), lambda: view)
    names = [[e.kind, e.name] for e in model.entries]
    blob = json.dumps(names, separators=(",", ":")).encode("utf-8")
    out.add(u.search_names(), key_of("names", names), const(blob))
