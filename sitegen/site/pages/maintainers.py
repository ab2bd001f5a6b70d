"""For maintainers: pairs of entries an agent may confuse, with a hint for each."""

from __future__ import annotations

from sitegen.collisions import DEFAULT_COLLISION_DISTANCE, Collision
from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.views import CollisionRow, EntryRef, MaintainersView
from sitegen.urls import SINGULAR

INTRO = (
    "Pairs of entries whose descriptions are so close in meaning that an agent may "
    f"pick the wrong one (cosine distance at most {DEFAULT_COLLISION_DISTANCE}). "
    "Reword one of each pair so that it says when to pick it over the other."
)


def _row(model: SiteModel, c: Collision) -> CollisionRow:
    u = model.urls
    return CollisionRow(
        a=EntryRef(c.kind_a, SINGULAR[c.kind_a], c.name_a, u.entry(c.kind_a, c.name_a)),
        b=EntryRef(c.kind_b, SINGULAR[c.kind_b], c.name_b, u.entry(c.kind_b, c.name_b)),
        distance=round(c.distance, 4),
        shared_words=c.shared,
        suggestion=c.suggestion(),
    )


def plan(model: SiteModel, out: Outputs) -> None:
    rows = tuple(
        _row(model, c)
        for c in model.data.collisions
        if (c.kind_a, c.name_a) in model.known and (c.kind_b, c.name_b) in model.known
    )
    # Keys hash repr(): every field of every row, and each side's description (shown too).
    shown = sorted({(r.a.type, r.a.name) for r in rows} | {(r.b.type, r.b.name) for r in rows})
    key = (INTRO, rows, [model.digests[k] for k in shown])
    view = MaintainersView(intro=INTRO, max_distance=DEFAULT_COLLISION_DISTANCE, pairs=rows)
    out.page("maintainers.html", model.urls.maintainers(), key, lambda: view)
