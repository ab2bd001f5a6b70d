"""The entry page: rendered definition, details, links, similar entries."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from sitegen import targets
from tests.site.helpers import BuiltSite, build, content_library, read_json


def test_entry_page_content(site: BuiltSite) -> None:
    page = site.out / "skills" / "terraform-plan-reviewer" / "index.html"
    html = page.read_text()
    assert "<h1>terraform-plan-reviewer</h1>" in html
    # the description's inline Markdown is rendered (the meta tag keeps plain text)
    assert '<p class="sg-lead">Reviews <code>terraform plan</code> output' in html
    assert '<meta name="description" content="Reviews terraform plan output' in html
    assert "destructive changes" in html
    # metadata table
    for label, value in (
        ("License", "Apache-2.0"),
        ("Version", "1.2.0"),
        ("Author", "platform-team"),
        ("Compatibility", "Requires Python 3.10+ and terraform 1.5 or newer"),
    ):
        assert f'<th scope="row">{label}</th><td>{value}</td>' in html
    assert "Bash(terraform:*) Bash(python3:*) Read" in html
    assert '<time datetime="' in html  # last change
    # Markdown: tables, highlighted fenced code, heading anchors, demoted headings
    assert "<table>" in html and "<th>Action in plan</th>" in html
    assert '<pre class="highlight"><code class="language-hcl">' in html
    assert '<span class="' in html
    assert '<h2 id="terraform-plan-reviewer">Terraform Plan Reviewer</h2>' in html
    assert '<h3 id="risk-classification">Risk classification</h3>' in html
    assert 'href="#risk-classification"' in html  # table of contents
    # relative links to the skill's own files point at the site's file pages
    assert 'href="files/references/destructive-changes.md.html"' in html
    # tags link to tag pages
    assert 'href="../../tags/terraform/index.html"' in html
    # similar entries come from the index
    twin = read_json(page.with_suffix(".json"))
    assert twin["similar"], "expected nearest neighbours from the index"
    assert all(s["distance"] <= 0.8 for s in twin["similar"])
    assert all((page.parent / s["url"]).is_file() for s in twin["similar"])
    assert twin["similar"][0]["name"] in html


def test_the_license_file_is_linked(content: BuiltSite) -> None:
    alpha = content.out / "skills" / "alpha"
    html = (alpha / "index.html").read_text()
    link = '<a href="index.html#file-LICENSE.txt">Apache-2.0, complete terms in LICENSE.txt</a>'
    assert f'<th scope="row">License</th><td>{link}</td>' in html
    assert 'id="file-LICENSE.txt"' in html  # a small text file: a section of the entry page
    assert read_json(alpha / "index.json")["license_url"] == "index.html#file-LICENSE.txt"
    beta = content.out / "skills" / "beta"
    assert read_json(beta / "index.json")["license_url"] is None


def test_an_agent_file_role_shows_its_body_tools_and_model(content: BuiltSite) -> None:
    page = content.out / "roles" / "api-designer" / "index.html"
    html = page.read_text()
    assert "<td>role (agent file)</td>" in html
    assert '<th scope="row">Tools</th><td><code>Read, Write, Grep</code></td>' in html
    assert '<th scope="row">Model</th><td><code>sonnet</code></td>' in html
    assert '<h3 id="how-you-work">How you work</h3>' in html  # the body, rendered
    assert "<code>plugins/tools/agents/api-designer.md</code>" in html  # its source
    # installs where agent tools read agent files: the file alone, not a folder
    assert "unzip -o -j api-designer.zip -d ~/.claude/agents" in html
    twin = read_json(page.with_suffix(".json"))
    assert (twin["format"], twin["tools"], twin["model"]) == (
        "agent",
        ["Read", "Write", "Grep"],
        "sonnet",
    )
    assert [f["path"] for f in twin["files"]] == ["api-designer.md"]
    with zipfile.ZipFile(page.parent / "api-designer.zip") as archive:
        assert archive.namelist() == ["api-designer/api-designer.md"]


def test_agent_files_are_in_the_catalog_not_the_discovery_index(content: BuiltSite) -> None:
    catalog = read_json(content.out / "catalog.json")
    rows = {e["name"]: e for e in catalog["entries"]}
    assert rows["api-designer"]["format"] == "agent" and rows["api-designer"]["type"] == "roles"
    assert rows["api-designer"]["tools"] == ["Read", "Write", "Grep"]
    assert rows["alpha"]["format"] == "skill" and rows["alpha"]["tools"] == []
    discovery = read_json(content.out / ".well-known" / "agent-skills" / "index.json")
    assert {s["name"] for s in discovery["skills"]} == {"alpha", "beta"}
    home = (content.out / "index.html").read_text()
    assert "roles written as agent files included" in home


def test_the_install_table_keys_every_entry_page(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The install selector comes from sitegen.targets: when that table changes, a build
    of the same library renders the entry pages again (no-op build or not)."""
    library = content_library(tmp_path / "library")
    out = tmp_path / "site"
    build(library, out, embedder)
    page = out / "skills" / "alpha" / "index.html"
    assert 'id="sg-install-gemini-project"' in page.read_text()
    fewer = {k: t for k, t in targets.AGENT_TOOLS.items() if k != "gemini"}
    monkeypatch.setattr(targets, "AGENT_TOOLS", fewer)  # as if sitegen.targets changed
    assert build(library, out, embedder).published
    html = page.read_text()
    assert 'id="sg-install-codex-project"' in html and "sg-install-gemini" not in html
    monkeypatch.undo()
    build(library, out, embedder)
    assert 'id="sg-install-gemini-project"' in page.read_text()
