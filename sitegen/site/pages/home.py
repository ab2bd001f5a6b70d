"""The home page: counts, recently changed entries, the most used tags."""

from __future__ import annotations

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.views import HomeView

RECENT = 10
TOP_TAGS = 40


def home_view(model: SiteModel) -> HomeView:
    u = model.urls
    summaries = list(model.summaries.values())
    dated = [s for s in summaries if s.updated]
    dated.sort(key=lambda s: (s.updated or "", s.type, s.name), reverse=True)
    tags = model.tag_counts()
    return HomeView(
        title=model.options.title,
        counts={
            "roles": sum(s.type == "roles" for s in summaries),
            "skills": sum(s.type == "skills" for s in summaries),
        },
        total=len(summaries),
        tag_count=len(tags),
        top_tags=tuple(sorted(tags, key=lambda t: (-t.count, t.name.lower()))[:TOP_TAGS]),
        recent=tuple(dated[:RECENT]),
        catalog=u.catalog(),
        agent_skills=u.agent_skills_index(),
        maintainers=u.maintainers(),
    )


def plan(model: SiteModel, out: Outputs) -> None:
    digests = list(model.digests.values())
    out.page("home.html", model.urls.home(), digests, lambda: home_view(model))
