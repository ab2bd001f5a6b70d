"""A real public collection (obra/superpowers, from the team's shared data), built as is.

Skipped when the shared data folder is not beside the repository (the suite must pass
without it). Its text stays in the shared folder: the test copies it to a temporary folder.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.site.helpers import build, html_pages, parse, read_json


def _superpowers() -> Path | None:
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "data" / "real" / "superpowers"
        if candidate.is_dir():
            return candidate
    return None


SUPERPOWERS = _superpowers()
pytestmark = pytest.mark.skipif(SUPERPOWERS is None, reason="../shared/data/real is absent")


def test_superpowers_references_are_pages_and_every_link_lands(
    tmp_path: Path, embedder: Any
) -> None:
    assert SUPERPOWERS is not None
    library = tmp_path / "superpowers"
    shutil.copytree(SUPERPOWERS, library)
    out = tmp_path / "site"
    result = build(library, out, embedder)
    assert result.entries == 14
    catalog = read_json(out / "catalog.json")
    markdown = 0
    for entry in catalog["entries"]:
        twin = read_json(out / entry["json"])
        for item in twin["files"]:
            if item["path"].endswith(".md") and item["path"] != "SKILL.md":
                markdown += 1
                page = (out / entry["json"]).parent / item["url"]
                assert '<article class="sg-prose sg-file-prose"' in page.read_text(), page
    assert markdown >= 10
    # A link from one skill to another skill's reference lands on that reference's page.
    writing = (out / "skills" / "writing-skills" / "index.html").read_text()
    assert 'href="../using-superpowers/files/references/gemini-tools.md.html"' in writing
    for page in html_pages(out):
        for _tag, _attr, value, _prose, _attrs in parse(page).urls:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("#") or not parts.path:
                continue
            folder = posixpath.dirname(page.relative_to(out).as_posix())
            target = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
            assert (out / target).exists(), (page, value)
