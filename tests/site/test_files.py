"""An entry's files: raw copies and file pages."""

from __future__ import annotations

import hashlib

from tests.site.helpers import BuiltSite, read_json


def test_file_tree_pages_and_downloads(site: BuiltSite) -> None:
    entry = site.out / "skills" / "terraform-plan-reviewer"
    twin = read_json(entry / "index.json")
    paths = {f["path"] for f in twin["files"]}
    assert paths == {"SKILL.md", "references/destructive-changes.md", "scripts/check_plan.py"}
    library = site.library / "skills" / "terraform-plan-reviewer"
    for item in twin["files"]:
        raw = entry / item["raw"]
        assert raw.read_bytes() == (library / item["path"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest()
        assert (entry / item["url"]).is_file()
    script_page = entry / "files" / "scripts" / "check_plan.py.html"
    html = script_page.read_text()
    assert '<pre class="highlight"><code>' in html and '<span class="k">' in html  # Python
    assert 'download="check_plan.py"' in html
    file_twin = read_json(script_page.with_suffix(".json"))
    assert file_twin["text"] == (library / "scripts" / "check_plan.py").read_text()
