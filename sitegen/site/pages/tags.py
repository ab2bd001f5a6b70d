"""The tags index: every tag with its count."""

from __future__ import annotations

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.views import TagsView


def plan(model: SiteModel, out: Outputs) -> None:
    digests = list(model.digests.values())
    out.page(
        "tags.html",
        model.urls.tags_index(),
        digests,
        lambda: TagsView(model.tag_counts()),
    )
