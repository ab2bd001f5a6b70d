"""Planning: every output of the site with its key, before anything is rendered.

A key is a hash of what the file is made of (the entry's etag, its similar list, the theme's
fingerprint, the build options...); keys are cheap. Page families (:mod:`sitegen.site.pages`)
each add their outputs; the plan is plain data that the renderer receives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.site import semantic
from sitegen.site.inputs import SiteInput, SiteOptions
from sitegen.site.manifest import MANIFEST, manifest_bytes
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Output, Outputs, OutputSet, without_conflicts
from sitegen.site.pages import (
    catalog,
    crawl,
    discovery,
    entry,
    home,
    lists,
    maintainers,
    not_found,
    search,
    static,
    tags,
)
from sitegen.site.search_index import SearchPlan, plan_search
from sitegen.site.theme import Theme


@dataclass(frozen=True)
class SitePlan(OutputSet):
    """Every output of a build with its key, and what the manifest will keep."""

    search: SearchPlan
    fingerprint: str
    facts: Mapping[str, Any]
    cache: Mapping[str, Any]

    @property
    def search_pending(self) -> bool:
        return self.search.pending

    def manifest_bytes(self, search_outputs: Sequence[Output] = ()) -> bytes:
        """The manifest of this build; a new search bundle's outputs join the plan's."""
        files = self.search.kept or {o.path: o.key for o in search_outputs}
        return manifest_bytes(
            fingerprint=self.fingerprint,
            facts=self.facts,
            search=self.search.record(files),
            cache=self.cache,
            outputs=[*self.outputs, *search_outputs],
        )


def pending(
    plan: SitePlan, previous: Mapping[str, Any], existing: set[str]
) -> tuple[list[Output], set[str]]:
    """The outputs whose key changed or whose file is missing, and the files to remove."""
    keys: Mapping[str, str] = previous.get("outputs") or {}
    todo = [o for o in plan.outputs if keys.get(o.path) != o.key or o.path not in existing]
    stale = existing - plan.paths - {MANIFEST}
    return todo, stale


def plan_site(
    theme: Theme, data: SiteInput, previous: Mapping[str, Any], existing: set[str]
) -> SitePlan:
    model = SiteModel(theme, data, previous.get("entries") or {})
    out = Outputs(theme)
    for group, source in enumerate(model.sources.values()):
        out.group = group  # one entry's outputs go to one render worker
        entry.plan(model, out, source)
    out.group = -1
    lists.plan(model, out)
    tags.plan(model, out)
    home.plan(model, out)
    maintainers.plan(model, out)
    search.plan(model, out)
    not_found.plan(model, out)
    catalog.plan(model, out)
    discovery.plan(model, out)
    static.plan_index_files(model, out)
    static.plan_pass_through(model, out)
    crawl.plan(model, out)
    static.plan_nojekyll(out)
    static.plan_assets(model, out)
    semantic.plan(data.semantic, out)
    search_plan, kept = plan_search(model, previous.get("search") or {}, existing)
    return SitePlan(
        outputs=tuple(without_conflicts(out.items + kept)),
        search=search_plan,
        fingerprint=theme.fingerprint,
        facts=model.facts(),
        cache=dict(data.cache),
    )


class Site:
    """The catalog site of one build: its theme and options. Template errors raise SiteError."""

    def __init__(self, options: SiteOptions | None = None) -> None:
        self.options = options or SiteOptions()
        self.theme = Theme(self.options)
        self.urls = self.theme.urls

    def plan(
        self,
        data: SiteInput,
        previous: Mapping[str, Any] | None = None,
        *,
        existing: set[str] | None = None,
    ) -> SitePlan:
        """Every output of the site with its key; reads only entries that changed."""
        return plan_site(self.theme, data, previous or {}, existing or set())
