"""The catalog site: a Jinja theme, typed view models, one module per page family.

It gets plain data (:class:`SiteInput`: entries, similar lists, index file bytes, a file
reader) and knows nothing of the meta store or of how the result is published. It works in
two steps so that a rebuild costs only what changed:

1. :meth:`Site.plan` lists every output file with a *key*: a hash of what the file is made
   of. Keys are cheap; nothing is rendered yet (:mod:`.plan`, :mod:`.pages`).
2. :func:`render_site` renders only the outputs whose key differs from the previous build's
   manifest, and stages only the bytes that differ from the published file (:mod:`.render`).

Where things are: the theme (Jinja, assets, links) in :mod:`.theme`; what each page shows in
:mod:`.views` (HTML and JSON twin from one model); each page family in :mod:`.pages`; the
search bundle in :mod:`.search_index` and :mod:`.pagefind`; zips in :mod:`.archive`; the
manifest in :mod:`.manifest`; forked render workers in :mod:`.workers`.

Library content is untrusted: every template value is escaped (autoescape), Markdown goes
through :mod:`sitegen.markdown`, and file names go through :mod:`sitegen.urls`.
"""

from sitegen.site.archive import build_archive
from sitegen.site.facts import is_text
from sitegen.site.inputs import PassThrough, Similar, SiteError, SiteInput, SiteOptions
from sitegen.site.manifest import MANIFEST, list_files, load_manifest, same_bytes
from sitegen.site.plan import Site, SitePlan, pending
from sitegen.site.render import RenderResult, Stager, render_site

__all__ = [
    "MANIFEST",
    "PassThrough",
    "RenderResult",
    "Similar",
    "Site",
    "SiteError",
    "SiteInput",
    "SiteOptions",
    "SitePlan",
    "Stager",
    "build_archive",
    "is_text",
    "list_files",
    "load_manifest",
    "pending",
    "render_site",
    "same_bytes",
]
