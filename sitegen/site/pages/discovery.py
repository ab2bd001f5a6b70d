"""The Agent Skills discovery index (.well-known/agent-skills/index.json): skills only."""

from __future__ import annotations

from typing import Any

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs, json_bytes, key_of
from sitegen.urls import relative

AGENT_SKILLS_SCHEMA = "https://schemas.agentskills.io/discovery/0.2.0/schema.json"


def discovery(model: SiteModel) -> dict[str, Any]:
    u = model.urls
    path = u.agent_skills_index()
    skills = []
    for (kind, name), source in model.sources.items():
        if kind != "skills":
            continue
        archive = u.archive(kind, name)
        skills.append(
            {
                "name": name,
                "type": "archive",
                "description": source.entry.description,
                "url": u.absolute(archive) or relative(path, archive),
                "digest": f"sha256:{source.facts.archive_sha256}",
            }
        )
    return {"$schema": AGENT_SKILLS_SCHEMA, "skills": skills}


def plan(model: SiteModel, out: Outputs) -> None:
    path = model.urls.agent_skills_index()
    key = key_of(model.theme.fingerprint, path, list(model.digests.values()))
    out.add(path, key, lambda: json_bytes(discovery(model)))
