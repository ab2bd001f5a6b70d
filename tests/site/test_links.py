"""Markdown links resolve against the library, and a page follows its targets' changes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sitegen.site.links import linked_paths
from tests.site.helpers import BuiltSite, build, content_library


def test_links_between_entries_and_to_base_dir(content: BuiltSite) -> None:
    html = (content.out / "skills" / "alpha" / "index.html").read_text()
    assert 'href="files/references/guide.md.html">the guide</a>' in html  # {baseDir}/
    assert 'href="../beta/files/references/notes.md.html">beta\'s notes</a>' in html
    assert 'href="../beta/index.html">beta itself</a>' in html
    beta = (content.out / "skills" / "beta" / "index.html").read_text()
    assert 'href="../alpha/index.html">alpha</a>' in beta


def test_a_page_is_rendered_again_when_a_link_target_outside_its_entry_goes(
    tmp_path: Path, embedder: Any
) -> None:
    library = content_library(tmp_path / "library")
    out = tmp_path / "site"
    build(library, out, embedder)
    page = out / "skills" / "alpha" / "index.html"
    reference = out / "skills" / "alpha" / "files" / "references" / "guide.md.html"
    assert "../beta/files/references/notes.md.html" in page.read_text()
    # Only beta changes; alpha's files are as they were, yet its links must not dangle.
    shutil.rmtree(library / "skills" / "beta" / "references")
    build(library, out, embedder)
    assert "notes.md.html" not in page.read_text()
    assert "notes.md.html" not in reference.read_text()
    assert "beta's notes" in page.read_text()  # the text stays, unlinked


def test_linked_paths_finds_inline_reference_and_base_dir_links() -> None:
    text = (
        "[a](a.md) [b](<b c.md> 'title') ![i](../img/x.png) [e](https://e.example) [f](#top)\n"
        "[ref]: ../../other/SKILL.md\n  [r2]: {baseDir}/scripts/run.py\n"
    )
    found = linked_paths(text, "skills/s/references", "skills/s")
    assert found == {
        "skills/s/references/a.md",
        "skills/s/references/b c.md",
        "skills/s/img/x.png",
        "skills/other/SKILL.md",
        "skills/s/scripts/run.py",
    }
