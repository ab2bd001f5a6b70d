"""Planning: every page family has its outputs in a build."""

from __future__ import annotations

import pytest

from sitegen.site import MANIFEST
from tests.site.helpers import BuiltSite, build, entries_of


def test_every_page_type_is_built(site: BuiltSite) -> None:
    out = site.out
    for path in (
        "index.html",
        "entries/index.html",
        "skills/index.html",
        "roles/index.html",
        "tags/index.html",
        "tags/terraform/index.html",
        "maintainers/index.html",
        "maintainers/index.json",
        "search/index.html",
        "404.html",
        "robots.txt",
        "catalog.json",
        ".well-known/agent-skills/index.json",
        "index/current.json",
        "pagefind/pagefind.js",
        "static/sitegen.css",
        "static/search.js",
        ".nojekyll",
        MANIFEST,
    ):
        assert (out / path).is_file(), path
    for kind, name in entries_of(site.library):
        assert (out / kind / name / "index.html").is_file()
        assert (out / kind / name / f"{name}.zip").is_file()
    # No --base-url: no absolute URLs to put in a sitemap, so there is none.
    assert not (out / "sitemap.xml").exists()
    assert "Sitemap:" not in (out / "robots.txt").read_text()
    assert site.result.entries == len(entries_of(site.library))


def test_a_no_op_build_skips_planning_and_anything_new_plans(
    own_site: BuiltSite, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made of the same inputs, with all its files there, the site is not planned again."""
    from sitegen.site import plan

    def planned(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("planned")

    library, out = own_site.library, own_site.out
    manifest = (out / MANIFEST).read_bytes()
    monkeypatch.setattr(plan, "SiteModel", planned)
    assert not build(library, out, embedder).published
    assert (out / MANIFEST).read_bytes() == manifest
    twin = out / "skills" / "terraform-plan-reviewer" / "index.json"
    (out / "stray.txt").write_text("x")  # a file the build did not write: kept, not planned
    assert not build(library, out, embedder).published
    changes = [
        lambda: twin.unlink(),  # a published file went missing
        lambda: (library / "skills" / "terraform-plan-reviewer" / "notes.txt").write_text("n"),
    ]
    for change in changes:
        change()
        with pytest.raises(AssertionError, match="planned"):
            build(library, out, embedder)
        monkeypatch.undo()
        assert build(library, out, embedder).published  # heals, and records its inputs
        monkeypatch.setattr(plan, "SiteModel", planned)
        assert not build(library, out, embedder).published
    assert twin.is_file() and (out / "stray.txt").read_text() == "x"
    with pytest.raises(AssertionError, match="planned"):  # another title: another site
        build(library, out, embedder, title="Another catalog")
