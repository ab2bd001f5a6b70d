"""The static search index (Pagefind bundle) and when it is kept."""

from __future__ import annotations

import gzip
from typing import Any

from tests.site.helpers import BuiltSite, build, tree_state


def test_search_bundle_is_kept_when_searchable_text_did_not_change(
    own_site: BuiltSite, embedder: Any
) -> None:
    before = tree_state(own_site.out)
    script = own_site.library / "skills" / "terraform-plan-reviewer" / "scripts" / "check_plan.py"
    script.write_text(script.read_text() + "\n# a comment changes the archive, not the search\n")
    build(own_site.library, own_site.out, embedder)
    after = tree_state(own_site.out)
    # Its files: kept as they were (bytes, inode, mtime). Folders are not compared: every
    # publish stages a new tree of folders, hard-linking unchanged files into it.
    bundle = [p for p, v in before.items() if p.startswith("pagefind/") and v[0] != "dir"]
    assert bundle and all(before[p] == after[p] for p in bundle)
    zip_path = "skills/terraform-plan-reviewer/terraform-plan-reviewer.zip"
    assert before[zip_path][0] != after[zip_path][0]
    # A new heading is searchable: the bundle is rebuilt.
    skill = script.parent.parent / "SKILL.md"
    skill.write_text(skill.read_text() + "\n## Quokka handling\n")
    build(own_site.library, own_site.out, embedder)
    rebuilt = tree_state(own_site.out)
    new_bundle = {p: v for p, v in rebuilt.items() if p.startswith("pagefind/") and v[0] != "dir"}
    assert new_bundle != {p: after[p] for p in bundle}
    # ... and it finds the heading: one of its (gzipped) page fragments holds the new text.
    fragments = [p for p in new_bundle if p.startswith("pagefind/fragment/")]
    assert fragments and any(
        b"Quokka handling" in gzip.decompress((own_site.out / p).read_bytes()) for p in fragments
    )
