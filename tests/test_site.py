"""`sitegen build`: pages and their content, JSON twins, archives, relative URLs, transactions.

Everything is real: the example library is indexed with the real embedder and rendered with
the default theme; failures are injected through inputs (a template that raises, a strict
problem), never by patching code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.site import MANIFEST
from tests.conftest import EXAMPLE_LIBRARY, make_colliding_library
from tests.site_helpers import (
    BuiltSite,
    build,
    example_site,
    html_pages,
    parse,
    tree_state,
)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> BuiltSite:
    return example_site(tmp_path_factory, embedder)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def entries_of(library: Path) -> list[tuple[str, str]]:
    return sorted(
        (kind, folder.name)
        for kind in ("roles", "skills")
        for folder in (library / kind).iterdir()
        if folder.is_dir()
    )


# -- the pages ------------------------------------------------------------------------------


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
        "index/roles.parquet",
        "index/skills.parquet",
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


def test_index_parquet_is_exported_byte_for_byte(site: BuiltSite) -> None:
    for kind in ("roles", "skills"):
        published = (site.out / "index" / f"{kind}.parquet").read_bytes()
        assert published == (site.library / "index" / f"{kind}.parquet").read_bytes()


def test_entry_page_content(site: BuiltSite) -> None:
    page = site.out / "skills" / "terraform-plan-reviewer" / "index.html"
    html = page.read_text()
    assert "<h1>terraform-plan-reviewer</h1>" in html
    assert "Reviews <code>" not in html  # the description is text, not Markdown
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


def test_archive_is_reproducible_and_matches_its_digest(site: BuiltSite) -> None:
    entry = site.out / "skills" / "terraform-plan-reviewer"
    blob = (entry / "terraform-plan-reviewer.zip").read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    html = (entry / "index.html").read_text()
    assert digest in html
    assert f"echo '{digest}  terraform-plan-reviewer.zip' | sha256sum -c -" in html
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        names = sorted(archive.namelist())
        assert names == ["SKILL.md", "references/destructive-changes.md", "scripts/check_plan.py"]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        library = site.library / "skills" / "terraform-plan-reviewer"
        for name in names:
            assert archive.read(name) == (library / name).read_bytes()


def test_home_lists_counts_tags_and_recent_entries(site: BuiltSite) -> None:
    html = (site.out / "index.html").read_text()
    twin = read_json(site.out / "index.json")
    roles = len([k for k, _ in entries_of(site.library) if k == "roles"])
    skills = len([k for k, _ in entries_of(site.library) if k == "skills"])
    assert twin["counts"] == {"roles": roles, "skills": skills}
    assert f"{skills} skills and {roles} roles" in html
    assert 'role="search"' in html and 'action="search/index.html"' in html
    assert len(twin["recent"]) == 10 and twin["tags"]
    assert "Recently changed" in html


def test_maintainers_page_without_collisions(site: BuiltSite) -> None:
    html = (site.out / "maintainers" / "index.html").read_text()
    twin = read_json(site.out / "maintainers" / "index.json")
    assert twin["collisions"] == [] and twin["max_distance"] == 0.3
    assert "No collisions" in html and "<table" not in html
    assert 'href="index.json"' in html
    home = (site.out / "index.html").read_text()
    assert 'href="maintainers/index.html"' in home
    assert read_json(site.out / "index.json")["maintainers"] == "maintainers/index.html"


def test_maintainers_page_lists_colliding_pairs(tmp_path: Path, embedder: Any) -> None:
    library = make_colliding_library(tmp_path / "colliding")
    out = tmp_path / "site"
    build(library, out, embedder)
    page = out / "maintainers" / "index.html"
    html = page.read_text()
    twin = read_json(out / "maintainers" / "index.json")
    pair = next(
        p
        for p in twin["collisions"]
        if {p["a"]["name"], p["b"]["name"]} == {"merge-request-reviewer", "pull-request-reviewer"}
    )
    assert pair["a"]["type"] == pair["b"]["type"] == "skills"
    assert pair["distance"] < 0.3 and pair["shared_words"] and pair["suggestion"]
    assert {pair["a"]["path"], pair["b"]["path"]} == {
        "../skills/merge-request-reviewer/index.html",
        "../skills/pull-request-reviewer/index.html",
    }
    assert "No collisions" not in html
    assert 'href="../skills/merge-request-reviewer/index.html"' in html
    assert 'href="../skills/pull-request-reviewer/index.html"' in html
    assert f"{pair['distance']:.3f}" in html
    # The collisions are cached with the index: a second build rewrites nothing.
    before = page.stat().st_mtime_ns
    result = build(library, out, embedder)
    assert not result.published and page.stat().st_mtime_ns == before


def test_lists_carry_filter_data(site: BuiltSite) -> None:
    html = (site.out / "entries" / "index.html").read_text()
    assert html.count("data-sg-item") == len(entries_of(site.library))
    assert 'data-type="skills"' in html and 'data-type="roles"' in html
    assert 'name="kind" value="roles"' in html  # kind filter on the mixed list
    skills = (site.out / "skills" / "index.html").read_text()
    assert 'name="kind"' not in skills  # one kind only: no kind filter
    assert '<option value="terraform">terraform (1)</option>' in skills
    tag = read_json(site.out / "tags" / "terraform" / "index.json")
    assert [e["name"] for e in tag["entries"]] == ["terraform-plan-reviewer"]


def test_json_twins_parse_and_every_page_has_one(site: BuiltSite) -> None:
    pages = html_pages(site.out)
    assert len(pages) > 50
    for page in pages:
        twin = page.with_suffix(".json")
        assert twin.is_file(), f"no JSON twin for {page}"
        read_json(twin)
        assert f'href="{twin.name}"' in page.read_text() or page.name == "404.html"
    catalog = read_json(site.out / "catalog.json")
    assert {(e["type"], e["name"]) for e in catalog["entries"]} == set(entries_of(site.library))
    assert all("embedding" not in e for e in catalog["entries"])
    assert catalog["index"] == {"roles": "index/roles.parquet", "skills": "index/skills.parquet"}


def test_agent_skills_discovery_index(site: BuiltSite) -> None:
    path = site.out / ".well-known" / "agent-skills" / "index.json"
    data = read_json(path)
    assert data["$schema"] == "https://schemas.agentskills.io/discovery/0.2.0/schema.json"
    skills = {name for kind, name in entries_of(site.library) if kind == "skills"}
    assert {s["name"] for s in data["skills"]} == skills
    for skill in data["skills"]:
        assert set(skill) == {"name", "type", "description", "url", "digest"}
        assert skill["type"] == "archive"
        # URLs resolve against the index URL (RFC 3986), here a relative path.
        target = (path.parent / skill["url"]).resolve()
        assert target.is_file() and target.suffix == ".zip"
        digest = "sha256:" + hashlib.sha256(target.read_bytes()).hexdigest()
        assert skill["digest"] == digest


def test_urls_are_relative_everywhere(site: BuiltSite) -> None:
    """No root-absolute or absolute URL of ours: the site works under any path and from disk."""
    for page in html_pages(site.out):
        for tag, _attr, value, in_prose, attrs in parse(page).urls:
            parts = urlsplit(value)
            if parts.scheme in {"http", "https", "mailto"}:
                # Only links written by library authors, and never a resource we load.
                assert in_prose and tag == "a", (page, value)
                if parts.scheme != "mailto":
                    assert "noopener" in (attrs.get("rel") or ""), (page, value)
                continue
            assert not parts.scheme and not parts.netloc, (page, value)
            assert not value.startswith("/"), (page, value)
            if value.startswith("#") or tag == "form":
                continue
            target = posixpath.normpath(
                posixpath.join(
                    posixpath.dirname(page.relative_to(site.out).as_posix()), unquote(parts.path)
                )
            )
            assert not target.startswith(".."), (page, value)
            assert (site.out / target).exists(), (page, value)


def test_base_url_adds_sitemap_and_absolute_discovery_urls(
    tmp_path: Path, site: BuiltSite, embedder: Any
) -> None:
    out = tmp_path / "site"
    build(site.library, out, embedder, base_url="https://team.example/catalog")
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://team.example/catalog/skills/terraform-plan-reviewer/</loc>" in sitemap
    assert "<loc>https://team.example/catalog/</loc>" in sitemap
    robots = (out / "robots.txt").read_text()
    assert "Sitemap: https://team.example/catalog/sitemap.xml" in robots
    data = read_json(out / ".well-known" / "agent-skills" / "index.json")
    assert data["skills"][0]["url"].startswith("https://team.example/catalog/skills/")
    not_found = (out / "404.html").read_text()
    assert 'href="https://team.example/catalog/static/sitegen.css"' in not_found
    entry = (out / "skills" / "terraform-plan-reviewer" / "index.html").read_text()
    assert (
        "'https://team.example/catalog/skills/terraform-plan-reviewer/"
        "terraform-plan-reviewer.zip'" in entry
    )
    assert 'href="../../static/sitegen.css"' in entry  # pages stay relative


def test_templates_override_by_file_name(tmp_path: Path, site: BuiltSite, embedder: Any) -> None:
    custom = tmp_path / "theme"
    (custom / "static").mkdir(parents=True)
    (custom / "404.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Lost in the catalog</h1>{% endblock %}'
    )
    (custom / "static" / "extra.css").write_text("body { outline: 0 }\n")
    out = tmp_path / "site"
    build(site.library, out, embedder, templates=custom, title="Team agents")
    assert "Lost in the catalog" in (out / "404.html").read_text()
    assert (out / "static" / "extra.css").is_file()
    assert (out / "static" / "sitegen.css").is_file()  # defaults still there
    assert "<title>Team agents</title>" in (out / "index.html").read_text()


# -- incremental builds and transactions ----------------------------------------------------------


@pytest.fixture()
def own_site(tmp_path: Path, site: BuiltSite, embedder: Any) -> BuiltSite:
    """A private copy of the example library (index included) with its own built site."""
    library = tmp_path / "library"
    shutil.copytree(site.library, library)
    out = tmp_path / "site"
    return BuiltSite(library, out, build(library, out, embedder))


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


def test_template_error_leaves_previous_site_intact(tmp_path: Path, own_site: BuiltSite) -> None:
    before = tree_state(own_site.out)
    index_before = tree_state(own_site.library / "index")
    theme = tmp_path / "broken-theme"
    theme.mkdir()
    (theme / "entry.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ entry.no_such_field.oops }}{% endblock %}'
    )
    skill = own_site.library / "skills" / "csv-data-cleaner" / "SKILL.md"
    skill.write_text(skill.read_text() + "\nA change that the index will pick up.\n")
    code, out, err = run(
        "build", str(own_site.library), "--out", str(own_site.out), "--templates", str(theme)
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: ") and "entry.html" in lines[-1]
    assert "Traceback" not in err
    assert tree_state(own_site.out) == before
    # The index step had rewritten the index for the changed entry; the failed build put it back.
    assert tree_state(own_site.library / "index") == index_before
    assert not list(own_site.out.parent.glob(".site.sitegen-*"))


def test_strict_problem_fails_without_touching_the_site(own_site: BuiltSite) -> None:
    before = tree_state(own_site.out)
    lonely = own_site.library / "skills" / "lonely"
    lonely.mkdir()
    (lonely / "SKILL.md").write_text("---\nname: lonely\ndescription: No tags. Use when.\n---\n")
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out), "--strict")
    assert code == 1
    assert "strict mode" in err.strip().splitlines()[-1]
    assert tree_state(own_site.out) == before
    # Without --strict the entry with only a warning is published.
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 0, err
    assert (own_site.out / "skills" / "lonely" / "index.html").is_file()


def test_entries_with_errors_are_left_out_and_listed(own_site: BuiltSite) -> None:
    broken = own_site.library / "skills" / "broken-entry"
    broken.mkdir()
    (broken / "SKILL.md").write_text("---\nname: broken-entry\n---\n")
    code, out, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 0
    assert "broken-entry/SKILL.md:1: error: description is missing" in err
    assert "left out with errors" in out
    assert not (own_site.out / "skills" / "broken-entry").exists()


def test_usage_errors_exit_2(tmp_path: Path, site: BuiltSite) -> None:
    library = str(site.library)
    assert run("build", library, "--out", str(tmp_path / "s"), "--base-url", "ftp://x")[0] == 2
    assert run("build", library, "--out", str(tmp_path / "s"), "--api-url", "/abs/path")[0] == 2
    assert run("build", library, "--templates", str(tmp_path / "missing"))[0] == 2
    assert run("build", str(tmp_path / "no-library"), "--out", str(tmp_path / "s"))[0] == 2
    foreign = tmp_path / "not-a-site"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    code, _, err = run("build", library, "--out", str(foreign))
    assert code == 2 and "not built by sitegen" in err
    assert (foreign / "precious.txt").read_text() == "keep me"
    code, _, err = run("build", library, "--out", library)
    assert code == 2


def test_api_url_is_announced_to_the_search_page(
    tmp_path: Path, site: BuiltSite, embedder: Any
) -> None:
    out = tmp_path / "site"
    build(site.library, out, embedder, api_url="api/match")
    html = (out / "search" / "index.html").read_text()
    assert '<meta name="sitegen-api" content="api/match">' in html
    assert read_json(out / "search" / "index.json")["api"] == "api/match"
    external = tmp_path / "site2"
    build(site.library, external, embedder, api_url="https://search.example/api/match")
    html = (external / "search" / "index.html").read_text()
    assert "connect-src 'self' https://search.example/api/match" in html


def test_parallel_render_gives_the_same_site(
    tmp_path: Path, site: BuiltSite, embedder: Any
) -> None:
    from sitegen.build import build_site
    from sitegen.library import Library
    from sitegen.site import SiteOptions

    out = tmp_path / "site"
    build_site(Library(site.library), embedder, out, options=SiteOptions(), jobs=2)
    mine = {p: v[0] for p, v in tree_state(out).items() if not p.startswith("pagefind/")}
    serial = {p: v[0] for p, v in tree_state(site.out).items() if not p.startswith("pagefind/")}
    mine.pop(MANIFEST)
    serial.pop(MANIFEST)
    assert mine == serial


def test_builds_from_an_fsspec_library(tmp_path: Path, embedder: Any) -> None:
    from tests.conftest import copy_to_memory

    url = copy_to_memory(EXAMPLE_LIBRARY)
    out = tmp_path / "site"
    code, stdout, err = run("build", url, "--out", str(out))
    assert code == 0, err
    assert (out / "skills" / "terraform-plan-reviewer" / "terraform-plan-reviewer.zip").is_file()
    assert (out / "index" / "skills.parquet").is_file()
    twin = read_json(out / "skills" / "terraform-plan-reviewer" / "index.json")
    assert twin["similar"] and {f["path"] for f in twin["files"]} >= {"SKILL.md"}


def test_search_bundle_is_kept_when_searchable_text_did_not_change(
    own_site: BuiltSite, embedder: Any
) -> None:
    before = tree_state(own_site.out)
    script = own_site.library / "skills" / "terraform-plan-reviewer" / "scripts" / "check_plan.py"
    script.write_text(script.read_text() + "\n# a comment changes the archive, not the search\n")
    build(own_site.library, own_site.out, embedder)
    after = tree_state(own_site.out)
    bundle = [p for p in before if p.startswith("pagefind/")]
    assert bundle and all(before[p] == after[p] for p in bundle)
    zip_path = "skills/terraform-plan-reviewer/terraform-plan-reviewer.zip"
    assert before[zip_path][0] != after[zip_path][0]
    # A new heading is searchable: the bundle is rebuilt.
    skill = script.parent.parent / "SKILL.md"
    skill.write_text(skill.read_text() + "\n## Quokka handling\n")
    build(own_site.library, own_site.out, embedder)
    rebuilt = tree_state(own_site.out)
    assert any(rebuilt.get(p) != after[p] for p in bundle) or set(rebuilt) != set(after)


def test_a_second_concurrent_build_is_refused(own_site: BuiltSite) -> None:
    lock = own_site.out.parent / ".site.sitegen-lock"
    lock.write_text(str(os.getppid()))  # a live process that is not this one
    before = tree_state(own_site.out)
    code, _, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 1 and "another build" in err
    assert tree_state(own_site.out) == before
    lock.write_text("999999999")  # a dead process: its lock is stale and taken over
    code, _, err = run("build", str(own_site.library), "--out", str(own_site.out))
    assert code == 0, err
    assert not lock.exists()
