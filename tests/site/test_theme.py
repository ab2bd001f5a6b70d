"""The theme: templates override by file name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitegen.site import Site, SiteError, SiteOptions
from tests.site.helpers import BuiltSite, build


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


def test_a_broken_template_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "tags.html").write_text('{% extends "base.html" %}\n{% block content %}\n{% if %}\n')
    with pytest.raises(SiteError) as caught:
        Site(SiteOptions(templates=theme))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{theme / 'tags.html'}:3: template syntax error")


def test_a_missing_templates_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="templates folder not found"):
        Site(SiteOptions(templates=tmp_path / "nope"))
