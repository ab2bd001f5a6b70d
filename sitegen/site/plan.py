"""Planning: every output of the site with its key, before anything is rendered.

A key is a hash of what the file is made of (the entry's etag, its similar list, the theme's
fingerprint, the build options...); keys are cheap. Page families (:mod:`sitegen.site.pages`)
each add their outputs; the plan is plain data that the renderer receives.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.site import semantic
from sitegen.site.inputs import SiteError, SiteInput, SiteOptions
from sitegen.site.manifest import MANIFEST, manifest_bytes
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Output, Outputs, OutputSet, key_of, without_conflicts
from sitegen.site.pagefind import pagefind_version
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
    inputs: str = ""  # the key of everything the site was made of (see inputs_key)

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
            inputs=self.inputs,
        )


def _source_fingerprint() -> str:
    """sitegen's own code: a change to it must never pass for a no-op."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def inputs_key(theme: Theme, data: SiteInput) -> str | None:
    """The key of everything a build makes the site from, or None when it cannot tell.

    Equal to the previous build's, with every file it wrote still there and nothing else,
    the site is the same: the build skips planning (a no-op at 5,000 entries plans ~30,000
    outputs otherwise). Entries count by etag (all their files' bytes), folder, format and
    dates; the index, similar lists, collisions, derived tags, published files by bytes or
    digest; the theme by its fingerprint; sitegen by its source. A semantic bundle always
    plans.
    """
    if data.semantic is not None:
        return None
    entries = sorted(
        (
            e.kind,
            e.name,
            e.folder,
            e.definition_path,
            e.format,
            e.etag,
            e.created,
            e.updated,
            e.modified,
        )
        for e in data.entries
    )
    index = hashlib.blake2b(digest_size=16)
    for name in sorted(data.index_files):
        index.update(name.encode() + b"\0" + data.index_files[name])
    return key_of(
        "inputs",
        theme.fingerprint,
        _source_fingerprint(),
        pagefind_version(),
        entries,
        sorted((k, [(s.kind, s.name, s.distance) for s in v]) for k, v in data.similar.items()),
        [(c.kind_a, c.name_a, c.kind_b, c.name_b, c.distance, c.shared) for c in data.collisions],
        sorted((k, str(v)) for k, v in data.updated.items()),
        sorted(data.derived_tags.items()),
        index.hexdigest(),
        [(f.path, f.sha256) for f in data.files],
        json.dumps(data.cache, sort_keys=True, default=str),
    )


def unchanged_plan(inputs: str, previous: Mapping[str, Any], existing: set[str]) -> SitePlan | None:
    """The previous build's plan, when it was made of `inputs` and its files are all there
    (and nothing else is); None otherwise."""
    keys: Mapping[str, str] = previous.get("outputs") or {}
    if not inputs or previous.get("inputs") != inputs or not keys:
        return None
    if existing != {*keys, MANIFEST}:
        return None
    search = previous.get("search") or {}
    kept = search.get("files") or {}
    if not isinstance(kept, dict) or not kept:
        return None
    return SitePlan(
        outputs=tuple(Output(path, key, _already_there) for path, key in keys.items()),
        search=SearchPlan(str(search.get("docs") or ""), kept=dict(kept)),
        fingerprint=str(previous.get("fingerprint") or ""),
        facts=previous.get("entries") or {},
        cache=previous.get("cache") or {},
        inputs=inputs,
    )


def _already_there() -> bytes:  # pragma: no cover - an unchanged plan renders nothing
    raise SiteError("an unchanged site was asked to render a file")


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
    inputs = inputs_key(theme, data) or ""
    unchanged = unchanged_plan(inputs, previous, existing)
    if unchanged is not None:
        return unchanged
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
        inputs=inputs,
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
