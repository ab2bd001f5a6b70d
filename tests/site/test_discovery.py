"""The Agent Skills discovery index."""

from __future__ import annotations

import hashlib

from tests.site.helpers import BuiltSite, entries_of, read_json


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
