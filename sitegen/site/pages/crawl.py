"""For crawlers: robots.txt always, sitemap.xml when a base URL makes absolute URLs."""

from __future__ import annotations

from dataclasses import dataclass

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, key_of


@dataclass(frozen=True)
class SitemapRow:
    loc: str | None
    lastmod: str | None


def sitemap_rows(model: SiteModel) -> list[SitemapRow]:
    u = model.urls
    pages = [u.home(), u.all_entries(), u.kind_index("skills"), u.kind_index("roles")]
    pages += [u.tags_index(), u.maintainers(), u.search()]
    rows = [SitemapRow(u.absolute(p), None) for p in pages]
    for s in model.summaries.values():
        rows.append(SitemapRow(u.absolute(s.path), (s.updated or "")[:10] or None))
    tags = sorted({t.name for s in model.summaries.values() for t in s.tags})
    rows += [SitemapRow(u.absolute(u.tag(t)), None) for t in tags]
    return rows


def plan(model: SiteModel, out: Outputs) -> None:
    u = model.urls
    theme = model.theme
    robots = u.robots()
    sitemap_url = u.absolute(u.sitemap())
    out.add(
        robots,
        key_of(theme.fingerprint, robots),
        lambda: theme.render("robots.txt", robots, {"sitemap_url": sitemap_url}),
    )
    if u.base_url:
        sitemap = u.sitemap()
        out.add(
            sitemap,
            key_of(theme.fingerprint, sitemap, list(model.digests.values())),
            lambda: theme.render("sitemap.xml", sitemap, {"urls": sitemap_rows(model)}),
        )
