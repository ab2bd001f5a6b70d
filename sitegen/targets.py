"""Where each agent tool reads skills and agent files: one table, as data.

`sitegen install` writes into these folders, and the site's install selector shows the same
ones (:func:`as_json`), so the two can never disagree. Each row was checked against the tool's
own documentation:

- Claude Code: skills in ``~/.claude/skills/`` (personal) and ``.claude/skills/`` (project);
  subagent files in ``~/.claude/agents/`` and ``.claude/agents/``.
- Codex: skills in ``$HOME/.agents/skills`` (USER) and ``$CWD/.agents/skills`` (REPO). Its
  custom agents are TOML files (``developer_instructions``), not Markdown agent files, so
  agent-file roles have no Codex folder.
- Gemini CLI: skills in ``~/.gemini/skills/`` and ``.gemini/skills/`` (``.agents/skills/`` is
  an alias); local subagents are Markdown files in ``~/.gemini/agents/`` and
  ``.gemini/agents/`` (name and description required; its tool names differ from Claude's).
- The Agent Skills open convention: ``~/.agents/skills/`` and ``.agents/skills/``, read by
  Codex and Gemini CLI among others. Persona-style role folders go to ``.agents/roles/``.

Imports nothing heavy: the site build and the CLI both read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Scope = Literal["user", "project"]
Format = Literal["skill", "role", "agent"]
SCOPES: tuple[Scope, ...] = ("user", "project")

DEFAULT_AGENT = "claude"
DEFAULT_SCOPE: Scope = "user"


@dataclass(frozen=True)
class Folders:
    """One kind of install folder of a tool: in the home folder and in a project."""

    user: str  # with a leading ~/
    project: str  # relative to the project (the current folder)

    def for_scope(self, scope: Scope) -> str:
        return self.user if scope == "user" else self.project


@dataclass(frozen=True)
class AgentTool:
    """An agent tool and the folders it reads; None where it has no folder for that format."""

    key: str
    label: str
    skills: Folders
    agents: Folders | None  # single-file agent definitions (`<name>.md`)
    roles: Folders | None  # Persona-style role folders (`<name>/ROLE.md`)
    docs: str

    def folders(self, fmt: Format) -> Folders | None:
        if fmt == "skill":
            return self.skills
        if fmt == "agent":
            return self.agents
        return self.roles


AGENT_TOOLS: dict[str, AgentTool] = {
    tool.key: tool
    for tool in (
        AgentTool(
            key="claude",
            label="Claude Code",
            skills=Folders("~/.claude/skills", ".claude/skills"),
            agents=Folders("~/.claude/agents", ".claude/agents"),
            roles=None,
            docs="https://code.claude.com/docs/en/skills",
        ),
        AgentTool(
            key="codex",
            label="Codex",
            skills=Folders("~/.agents/skills", ".agents/skills"),
            agents=None,
            roles=None,
            docs="https://developers.openai.com/codex/skills",
        ),
        AgentTool(
            key="gemini",
            label="Gemini CLI",
            skills=Folders("~/.gemini/skills", ".gemini/skills"),
            agents=Folders("~/.gemini/agents", ".gemini/agents"),
            roles=None,
            docs="https://geminicli.com/docs/cli/skills/",
        ),
        AgentTool(
            key="agents",
            label="Any agent (.agents/)",
            skills=Folders("~/.agents/skills", ".agents/skills"),
            agents=None,
            roles=Folders("~/.agents/roles", ".agents/roles"),
            docs="https://agentskills.io",
        ),
    )
}
AGENT_KEYS: tuple[str, ...] = tuple(AGENT_TOOLS)


class NoFolderError(ValueError):
    """The chosen tool has no folder for this kind of entry."""


def install_folder(
    agent: str,
    scope: Scope,
    fmt: Format,
    *,
    home: str | os.PathLike[str] | None = None,
    project: str | os.PathLike[str] | None = None,
) -> Path:
    """The folder an entry of format `fmt` goes into for `agent` at `scope`, made absolute."""
    tool = AGENT_TOOLS[agent]
    folders = tool.folders(fmt)
    if folders is None:
        able = [t.key for t in AGENT_TOOLS.values() if t.folders(fmt) is not None]
        what = {"skill": "skills", "agent": "agent files", "role": "Persona role folders"}[fmt]
        raise NoFolderError(
            f"{tool.label} has no folder for {what}; use --agent {' or '.join(able)}, or --dir"
        )
    rel = folders.for_scope(scope)
    if scope == "user":
        base = Path(home) if home is not None else Path.home()
        return base / rel.removeprefix("~/")
    return Path(project if project is not None else os.getcwd()) / rel


def as_json() -> list[dict[str, Any]]:
    """The table for templates and JSON consumers (the site's install selector)."""
    rows = []
    for tool in AGENT_TOOLS.values():
        rows.append(
            {
                "key": tool.key,
                "label": tool.label,
                "docs": tool.docs,
                "folders": {
                    fmt: None
                    if (f := tool.folders(fmt)) is None
                    else {"user": f.user, "project": f.project}
                    for fmt in ("skill", "agent", "role")
                },
            }
        )
    return rows
