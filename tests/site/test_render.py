"""Incremental rendering: only what changed is rewritten."""

from __future__ import annotations

import shutil
from typing import Any

from tests.site.helpers import BuiltSite, build, read_json, run, tree_state


def test_second_build_rewrites_nothing(own_site: BuiltSite) -> None:
    before = tree_state(own_site.out)
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 0, err
    assert "up to date, nothing rewritten" in out
    assert " 0 page(s) written" in out and " 0 other file(s) written" in out
    assert tree_state(own_site.out) == before  # same bytes, mtimes and inodes


def test_one_changed_entry_rewrites_only_what_depends_on_it(
    own_site: BuiltSite, embedder: Any
) -> None:
    before = tree_state(own_site.out)
    skill = own_site.library / "skills" / "csv-data-cleaner" / "SKILL.md"
    skill.write_text(skill.read_text() + "\n## A new section\n\nMore words.\n")
    result = build(own_site.library, own_site.out, embedder)
    after = tree_state(own_site.out)
    changed = {p for p in before if p in after and before[p][0] != after[p][0]}
    assert "skills/csv-data-cleaner/index.html" in changed
    assert "skills/csv-data-cleaner/csv-data-cleaner.zip" in changed
    assert "skills/csv-data-cleaner/raw/SKILL.md" in changed
    assert (
        '<h3 id="a-new-section">'
        in (own_site.out / "skills/csv-data-cleaner/index.html").read_text()
    )
    for untouched in (
        "skills/terraform-plan-reviewer/index.html",
        "skills/terraform-plan-reviewer/terraform-plan-reviewer.zip",
        "static/sitegen.css",
        "search/index.html",
    ):
        assert before[untouched] == after[untouched], untouched  # not even rewritten
    assert 0 < result.write.pages_written < 10
    assert result.write.pages_unchanged > 100


def test_removed_entry_disappears(own_site: BuiltSite, embedder: Any) -> None:
    shutil.rmtree(own_site.library / "skills" / "csv-data-cleaner")
    result = build(own_site.library, own_site.out, embedder)
    assert not (own_site.out / "skills" / "csv-data-cleaner").exists()
    assert result.write.removed >= 4
    catalog = read_json(own_site.out / "catalog.json")
    assert "csv-data-cleaner" not in {e["name"] for e in catalog["entries"]}
