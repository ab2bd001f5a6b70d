"""The static search index: one small document per entry, indexed by Pagefind.

Planning decides whether the previous bundle still serves: it does when the documents it
indexed (name, description, tags and headings of every entry) are the same and its files are
still published, so a fixed script or a reworded paragraph does not rebuild it. Otherwise
the documents go to Pagefind while the pages render (see :mod:`sitegen.site.render`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from sitegen.library import Entry
from sitegen.markdown import Heading
from sitegen.site.inputs import SiteError
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Output, const, key_of
from sitegen.site.pagefind import pagefind_version
from sitegen.site.theme import RENDERER_VERSION


def search_document(entry: Entry, headings: Sequence[Heading]) -> str:
    """The small HTML document Pagefind indexes for an entry: name, description, tags, headings.

    Weights rank a name match above a tag match above a description or heading match. Heading
    ids match the entry page's, so Pagefind's sub-results link to the right section.
    """
    parts = [
        '<html lang="en"><body>',
        f'<main data-pagefind-body data-pagefind-filter="kind:{entry.kind}" '
        f'data-pagefind-meta="kind:{entry.kind}">',
        f'<h1 data-pagefind-weight="10">{escape(entry.name)}</h1>',
        f'<p data-pagefind-weight="8">{escape(entry.name.replace("-", " "))}</p>',
        f'<p data-pagefind-meta="description" data-pagefind-weight="2">'
        f"{escape(entry.description)}</p>",
    ]
    if entry.tags:
        tags = " ".join(f'<span data-pagefind-filter="tag">{escape(t)}</span>' for t in entry.tags)
        parts.append(f'<p data-pagefind-weight="5">{tags}</p>')
    for heading in headings:
        parts.append(
            f'<h2 id="{escape(heading.id)}" data-pagefind-weight="2">{escape(heading.text)}</h2>'
        )
    parts.append("</main></body></html>")
    return "".join(parts)


@dataclass(frozen=True)
class SearchPlan:
    """The search bundle of this build: kept from the previous build, or to be made."""

    docs_key: str
    docs: Mapping[str, str] = field(default_factory=dict)  # site path -> document; {} if kept
    kept: Mapping[str, str] = field(default_factory=dict)  # bundle path -> key, if kept

    @property
    def pending(self) -> bool:
        return not self.kept

    def record(self, files: Mapping[str, str]) -> dict[str, Any]:
        """What the manifest keeps of the bundle, to recognise it next build."""
        return {"docs": self.docs_key, "files": dict(files)}


def plan_search(
    model: SiteModel, previous: Mapping[str, Any], existing: set[str]
) -> tuple[SearchPlan, list[Output]]:
    """The search plan, and the kept bundle's outputs (none when it must be made)."""
    docs = {
        model.urls.entry(e.kind, e.name): search_document(
            e, model.sources[(e.kind, e.name)].facts.headings
        )
        for e in model.entries
    }
    docs_key = key_of("docs", RENDERER_VERSION, pagefind_version(), sorted(docs.items()))
    recorded: Mapping[str, str] = previous.get("files") or {}
    if previous.get("docs") == docs_key and recorded and all(p in existing for p in recorded):
        kept = [Output(path, digest, _missing(path)) for path, digest in recorded.items()]
        return SearchPlan(docs_key, kept=dict(recorded)), kept
    return SearchPlan(docs_key, docs=docs), []


def bundle_outputs(bundle: Mapping[str, bytes]) -> list[Output]:
    """A new search bundle's files as outputs."""
    outputs = []
    for path, blob in sorted(bundle.items()):
        digest = key_of("pagefind", hashlib.sha256(blob).hexdigest())
        outputs.append(Output(path, digest, const(blob)))
    return outputs


def _missing(path: str) -> Callable[[], bytes]:
    def produce() -> bytes:
        raise SiteError(f"{path}: search bundle file missing from the previous build")

    return produce
