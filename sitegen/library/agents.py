"""Single-file agent roles: Markdown with `name`/`description` frontmatter, one file each.

The format is Claude Code's subagent file (`.claude/agents/<name>.md`, a plugin's
`agents/<name>.md`): required `name` (lowercase letters, digits and hyphens) and
`description`; optional `tools` (comma-separated string or list), `disallowedTools`,
`model` (`sonnet`, `opus`, `haiku`, `inherit` or a full model id), `permissionMode`,
`maxTurns`, `skills`, `mcpServers`, `hooks`, `memory`, `background`, `isolation`, `color`,
`effort`. Gemini CLI's local subagents (`.gemini/agents/*.md`: `kind`, `tools` list,
`temperature`, `max_turns`, `timeout_mins`) and OpenCode's (`.opencode/agents/*.md`: `mode`,
`tools` map, `permission`; name from the file name) read the same way. Codex keeps agents
in TOML files, which are not read.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from sitegen.library.fields import (
    Fields,
    Lines,
    check_description,
    line_finder,
    read_metadata,
    read_tags,
    read_tools,
    report_yaml_shape,
    type_name,
)
from sitegen.library.frontmatter import Document, Report
from sitegen.library.rules import MAX_NAME, SLUG_RE

CLAUDE = "Claude Code subagents"
MODEL_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})
MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@\[\]-]*$")
PERMISSION_MODES = frozenset(
    {"default", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan"}
)
MEMORY_SCOPES = frozenset({"user", "project", "local"})
KNOWN_KEYS = frozenset(
    {
        # Claude Code
        "name",
        "description",
        "tools",
        "disallowedTools",
        "model",
        "permissionMode",
        "maxTurns",
        "skills",
        "mcpServers",
        "hooks",
        "memory",
        "background",
        "isolation",
        "color",
        "effort",
        "initialPrompt",
        # Gemini CLI
        "kind",
        "temperature",
        "max_turns",
        "timeout_mins",
        # OpenCode
        "mode",
        "permission",
        "prompt",
        "hidden",
        "disable",
        "maxSteps",
        "top_p",
        "variant",
        # sitegen / Persona
        "tags",
        "license",
        "metadata",
    }
)


def is_agent_candidate(doc_data: Mapping[str, Any]) -> bool:
    """A Markdown file in an agents folder is a role when its frontmatter names one."""
    return "name" in doc_data or "description" in doc_data


def check_agent(doc: Document, definition_path: str, report: Report) -> Fields | None:
    """Apply the subagent rules; lenient (warnings) except where the file cannot be used."""
    data, at = doc.data, line_finder(doc)
    report_yaml_shape(doc, report, spec=False)
    for key in data:
        if key not in KNOWN_KEYS:
            report(at(key), "note", "unknown-key", f"key {key!r} is not a known agent setting")
    name = _agent_name(data, definition_path, at, report)
    description = check_description(data, at, report, limit=None)
    raw_tools, tools = read_tools(data.get("tools"), "tools", at, report, "warning")
    read_tools(data.get("disallowedTools"), "disallowedTools", at, report, "warning")
    model = _model(data, at, report)
    _enum(data, "permissionMode", PERMISSION_MODES, at, report)
    _enum(data, "memory", MEMORY_SCOPES, at, report)
    _enum(data, "isolation", frozenset({"worktree"}), at, report)
    _enum(data, "background", frozenset({"true", "false"}), at, report)
    for key in ("maxTurns", "max_turns", "maxSteps"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, str) and value.strip().isdigit() and int(value) > 0
        ):
            report(at(key), "warning", "field-value", f"{key} must be a positive whole number")
    skills = data.get("skills")
    if skills is not None and not isinstance(skills, str | list):
        report(
            at("skills"),
            "warning",
            "field-type",
            "skills must be a list of skill names or a comma-separated string",
        )
    metadata = read_metadata(data, at, report)
    tags = read_tags(data, metadata, at, report)
    license_ = data.get("license") if isinstance(data.get("license"), str) else None
    if name is None or description is None:
        return None
    return Fields(
        name=name,
        description=description,
        tags=tags,
        license=license_,
        allowed_tools=raw_tools,
        tools=tools,
        model=model,
        metadata=metadata,
    )


def _agent_name(
    data: Mapping[str, Any], definition_path: str, at: Lines, report: Report
) -> str | None:
    stem = posixpath.splitext(posixpath.basename(definition_path))[0]
    raw = data.get("name")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        # OpenCode names agents after their file; Claude Code requires the key.
        opencode = definition_path.startswith(".opencode/") or "/.opencode/" in definition_path
        report(
            at("name"),
            "note" if opencode else "warning",
            "name-missing",
            f"no name ({CLAUDE} require one); using the file name {stem!r}",
        )
        raw = stem
    elif not isinstance(raw, str):
        report(at("name"), "error", "name-type", f"name must be a string, not {type_name(raw)}")
        return None
    name = raw.strip()
    if not SLUG_RE.match(name) or len(name) > MAX_NAME:
        slug = slugify(name)
        if not slug:
            report(
                at("name"),
                "error",
                "name-invalid",
                f"name {name!r} has no letters or digits to make an identifier from",
            )
            return None
        report(
            at("name"),
            "warning",
            "name-invalid",
            f"name {name!r} must be lowercase letters, digits and hyphens ({CLAUDE}); "
            f"listed as {slug!r}",
        )
        name = slug
    return name


def slugify(text: str) -> str:
    """`Frontend Developer` -> `frontend-developer` (ASCII letters and digits kept)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:MAX_NAME].rstrip("-")


def _model(data: Mapping[str, Any], at: Lines, report: Report) -> str | None:
    value = data.get("model")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        report(at("model"), "warning", "field-type", "model must be a string")
        return None
    model = value.strip()
    if model not in MODEL_ALIASES and not MODEL_ID_RE.match(model):
        report(
            at("model"),
            "warning",
            "model-invalid",
            f"model {model!r} is not sonnet, opus, haiku, inherit or a model id",
        )
    return model


def _enum(
    data: Mapping[str, Any], key: str, allowed: frozenset[str], at: Lines, report: Report
) -> None:
    value = data.get(key)
    if value is None:
        return
    if not isinstance(value, str) or value.strip() not in allowed:
        report(
            at(key), "warning", "field-value", f"{key} must be one of {', '.join(sorted(allowed))}"
        )
