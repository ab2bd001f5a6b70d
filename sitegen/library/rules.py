"""The rules of each definition format: the Agent Skills spec for SKILL.md, Persona's ROLE.md.

For skills the spec's reference validator (`skills-ref`, `agentskills validate`) is the
oracle: whatever it rejects is at least a warning here (an error with ``--strict``), named
after the spec's rule; whatever it accepts gets no error or warning, only notes. Lenient by
default: an entry is dropped only when it cannot be used at all (no description, a name
that cannot be a URL); other breaches are warnings and the entry is kept.

Agent files (single-file roles) have their own rules in :mod:`sitegen.library.agents`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sitegen.library.frontmatter import Document, Report
from sitegen.library.model import Level
from sitegen.suggest import closest

MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
SPEC_FIELDS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
ROLE_FIELDS = SPEC_FIELDS | {"tags"}
# Roles and agents: ASCII slugs, as URLs and agent tools expect.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SPEC = "Agent Skills spec"


@dataclass
class Fields:
    """What the rules keep from a frontmatter, whatever the format."""

    name: str
    description: str
    tags: tuple[str, ...] = ()
    license: str | None = None
    compatibility: str | None = None
    allowed_tools: str | None = None
    tools: tuple[str, ...] = ()
    model: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


Lines = Callable[[str], int]


def line_finder(doc: Document) -> Lines:
    def at(key: str) -> int:
        return doc.key_lines.get(key) or doc.key_lines.get(key.split(".")[0], 1)

    return at


# -- shared pieces -----------------------------------------------------------------------------


def report_yaml_shape(doc: Document, report: Report, *, spec: bool) -> None:
    """Duplicate keys everywhere; for skills also what the spec's strict parser refuses."""
    for line, key in doc.duplicates:
        report(
            line,
            "warning",
            "duplicate-key",
            f"key {key!r} appears twice; the last value wins"
            + (f" ({SPEC}: YAML keys must be unique)" if spec else ""),
        )
    if not spec:
        return
    for line, what in doc.strict_yaml:
        report(
            line,
            "warning",
            "yaml-strict",
            f"{what} is not read by the {SPEC}'s reference parser (strictyaml); "
            "use block style (one '- item' per line, or a plain string)",
        )
    if doc.inner_dashes is not None:
        line, rejected = doc.inner_dashes
        report(
            line,
            "warning" if rejected else "note",
            "frontmatter-dashes",
            f"'---' inside the frontmatter: the {SPEC}'s reference parser ends the "
            "frontmatter there" + ("" if rejected else " and reads a shorter value"),
        )


def check_description(
    data: Mapping[str, Any], at: Lines, report: Report, *, limit: int | None
) -> str | None:
    """Required, a non-empty string; the limit counts the value as written (not stripped)."""
    if "description" not in data:
        report(
            1,
            "error",
            "description-missing",
            f"description is missing ({SPEC}: description is required)",
        )
        return None
    value = data["description"]
    line = at("description")
    if not isinstance(value, str):
        report(
            line,
            "error",
            "description-type",
            f"description must be a string, not {type_name(value)}",
        )
        return None
    if not value.strip():
        report(line, "error", "description-missing", "description is empty")
        return None
    if limit is not None and len(value) > limit:
        report(
            line,
            "error",
            "description-too-long",
            f"description is {len(value)} characters (max {limit}, {SPEC}; "
            "counted as written, spaces included)",
        )
        return None
    return value.strip()


def read_tags(
    data: Mapping[str, Any], metadata: Mapping[str, Any], at: Lines, report: Report
) -> tuple[str, ...]:
    """Authored tags: a top-level `tags` list (Persona) or `metadata.tags`, a comma string."""
    values: list[Any] = []
    for raw, key in ((data.get("tags"), "tags"), (metadata.get("tags"), "metadata.tags")):
        if raw is None:
            continue
        if isinstance(raw, str):
            values.extend(raw.split(","))
        elif isinstance(raw, list):
            values.extend(raw)
        else:
            report(
                at(key),
                "warning",
                "field-type",
                f"{key} must be a list or a comma-separated string",
            )
    tags: list[str] = []
    for value in values:
        if not isinstance(value, str):
            report(at("tags"), "warning", "field-type", f"tag {value!r} is not a string")
            continue
        tag = value.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def split_tools(text: str) -> tuple[str, ...]:
    """Tool names from `Read, Grep` or `Bash(git status:*) Read`: commas when there are any
    outside parentheses, else spaces; a pattern's parentheses are kept whole."""
    depth = 0
    commas = False
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            commas = True
            break
    tools: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        separator = char == "," if commas else char.isspace()
        if separator and depth == 0:
            tools.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    tools.append("".join(current).strip())
    return tuple(t for t in tools if t)


def read_tools(
    value: Any, key: str, at: Lines, report: Report, level: Level = "note"
) -> tuple[str | None, tuple[str, ...]]:
    """(as written, parsed) for a tool list given as a string, a list, or OpenCode's map."""
    if value is None:
        return None, ()
    if isinstance(value, str):
        return value.strip() or None, split_tools(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        tools = tuple(v.strip() for v in value if v.strip())
        return ", ".join(tools) or None, tools
    if isinstance(value, dict):  # OpenCode: {bash: false, read: true}
        tools = tuple(str(k) for k, v in value.items() if str(v).lower() not in {"false", "no"})
        return ", ".join(tools) or None, tools
    report(
        at(key),
        level,
        "field-type",
        f"{key} must be a string or a list of tool names; ignored",
    )
    return None, ()


def optional_text(
    data: Mapping[str, Any], key: str, at: Lines, report: Report, level: Level = "note"
) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        report(
            at(key),
            level,
            "field-type",
            f"{key} must be a string, not {type_name(value)}; ignored",
        )
        return None
    return value.strip() or None


def read_metadata(data: Mapping[str, Any], at: Lines, report: Report) -> dict[str, Any]:
    metadata = data.get("metadata")
    if metadata is None or metadata == "":
        return {}
    if not isinstance(metadata, dict):
        report(
            at("metadata"),
            "note",
            "field-type",
            f"metadata should be a mapping of string keys to string values ({SPEC}); ignored",
        )
        return {}
    odd = [k for k, v in metadata.items() if not isinstance(v, str)]
    if odd:
        report(
            at(f"metadata.{odd[0]}"),
            "note",
            "metadata-values",
            f"metadata value of {odd[0]!r} is not a string; the {SPEC} maps strings to "
            "strings (agents will read it as text)",
        )
    return {str(k): v for k, v in metadata.items()}


def type_name(value: Any) -> str:
    return {
        list: "a list",
        dict: "a mapping",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }.get(type(value), type(value).__name__)


def describe_angles(description: str, at: Lines, report: Report) -> None:
    if "<" in description or ">" in description:
        report(
            at("description"),
            "note",
            "description-angle",
            "description contains < or >, which some agents read as markup",
        )


# -- skills: the Agent Skills spec -------------------------------------------------------------


def check_skill(doc: Document, folder_name: str, report: Report) -> Fields | None:
    """Apply the Agent Skills spec to a SKILL.md; None when the entry cannot be used."""
    data, at = doc.data, line_finder(doc)
    report_yaml_shape(doc, report, spec=True)
    for key in data:
        if key not in SPEC_FIELDS:
            guess = closest(key, SPEC_FIELDS | {"tags"})
            hint = (
                "; put tags in metadata.tags as a comma-separated string"
                if guess == "tags"
                else f"; did you mean {guess!r}?"
                if guess
                else ""
            )
            report(
                at(key),
                "warning",
                "unknown-key",
                f"unknown key {key!r} ({SPEC} fields: {', '.join(sorted(SPEC_FIELDS))}){hint}",
            )
    name = _skill_name(data, folder_name, at, report)
    description = check_description(data, at, report, limit=MAX_DESCRIPTION)
    compatibility = data.get("compatibility")
    if compatibility is not None and not isinstance(compatibility, str):
        report(
            at("compatibility"),
            "warning",
            "field-type",
            f"compatibility must be a string ({SPEC}); ignored",
        )
        compatibility = None
    elif isinstance(compatibility, str) and len(compatibility) > MAX_COMPATIBILITY:
        report(
            at("compatibility"),
            "warning",
            "compatibility-too-long",
            f"compatibility is {len(compatibility)} characters (max {MAX_COMPATIBILITY}, {SPEC})",
        )
    metadata = read_metadata(data, at, report)
    tags = read_tags(data, metadata, at, report)
    allowed, tools = read_tools(data.get("allowed-tools"), "allowed-tools", at, report)
    license_ = optional_text(data, "license", at, report)
    if name is None or description is None:
        return None
    describe_angles(description, at, report)
    return Fields(
        name=name,
        description=description,
        tags=tags,
        license=license_,
        compatibility=compatibility.strip() or None if isinstance(compatibility, str) else None,
        allowed_tools=allowed,
        tools=tools,
        metadata=metadata,
    )


def _skill_name(data: Mapping[str, Any], folder_name: str, at: Lines, report: Report) -> str | None:
    """The spec's name rule as its reference validator applies it (NFKC, Unicode letters)."""
    folder = unicodedata.normalize("NFKC", folder_name)
    raw = data.get("name")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        what = "no name" if "name" not in data else "name is empty"
        report(
            at("name"),
            "warning",
            "name-missing",
            f"{what} ({SPEC}: name is required); using the folder name {folder!r}",
        )
        raw = folder
        if not spec_name_ok(folder):
            report(
                at("name"),
                "error",
                "name-invalid",
                f"folder name {folder!r} is not a valid skill name either",
            )
            return None
        return folder
    if not isinstance(raw, str):
        report(at("name"), "error", "name-type", f"name must be a string, not {type_name(raw)}")
        return None
    name = unicodedata.normalize("NFKC", raw.strip())
    ok = True
    if len(name) > MAX_NAME:
        report(
            at("name"),
            "error",
            "name-too-long",
            f"name is {len(name)} characters (max {MAX_NAME}, {SPEC})",
        )
        ok = False
    why = spec_name_error(name)
    if why:
        report(at("name"), "error", "name-invalid", f"name {name!r} {why} ({SPEC})")
        ok = False
    if name != folder:
        report(
            at("name"),
            "warning",
            "name-mismatch",
            f"name {name!r} differs from its folder {folder_name!r} ({SPEC}: the folder "
            "must be named after the skill)",
        )
    return name if ok else None


def spec_name_error(name: str) -> str | None:
    """Why a (normalized) skill name breaks the spec, or None."""
    if name != name.lower():
        return "must be lowercase"
    if name.startswith("-") or name.endswith("-"):
        return "must not start or end with a hyphen"
    if "--" in name:
        return "must not contain two hyphens in a row"
    if not all(c.isalnum() or c == "-" for c in name):
        return "may hold only letters, digits and hyphens"
    return None


def spec_name_ok(name: str) -> bool:
    return bool(name) and len(name) <= MAX_NAME and spec_name_error(name) is None


# -- roles: Persona's ROLE.md ------------------------------------------------------------------


def check_role(doc: Document, folder_name: str, report: Report) -> Fields | None:
    """Persona's role format: the spec's fields plus a top-level `tags` list."""
    data, at = doc.data, line_finder(doc)
    report_yaml_shape(doc, report, spec=False)
    for key in data:
        if key not in ROLE_FIELDS:
            guess = closest(key, ROLE_FIELDS)
            hint = f"; did you mean {guess!r}?" if guess else ""
            report(at(key), "warning", "unknown-key", f"unknown key {key!r}{hint}")
    name = slug_name(data, folder_name, at, report)
    description = check_description(data, at, report, limit=MAX_DESCRIPTION)
    metadata = read_metadata(data, at, report)
    tags = read_tags(data, metadata, at, report)
    allowed, tools = read_tools(data.get("allowed-tools"), "allowed-tools", at, report, "warning")
    license_ = optional_text(data, "license", at, report, "warning")
    compatibility = optional_text(data, "compatibility", at, report, "warning")
    if compatibility is not None and len(compatibility) > MAX_COMPATIBILITY:
        report(
            at("compatibility"),
            "warning",
            "compatibility-too-long",
            f"compatibility is {len(compatibility)} characters (max {MAX_COMPATIBILITY})",
        )
    if name is None or description is None:
        return None
    describe_angles(description, at, report)
    return Fields(name, description, tags, license_, compatibility, allowed, tools, None, metadata)


def slug_name(data: Mapping[str, Any], fallback: str, at: Lines, report: Report) -> str | None:
    """Role names: lowercase ASCII letters, digits and single hyphens, at most 64."""
    raw = data.get("name")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        report(at("name"), "warning", "name-missing", f"no name; using {fallback!r}")
        raw = fallback
    elif not isinstance(raw, str):
        report(at("name"), "error", "name-type", f"name must be a string, not {type_name(raw)}")
        return None
    name = raw.strip()
    if len(name) > MAX_NAME:
        report(
            at("name"), "error", "name-too-long", f"name is {len(name)} characters (max {MAX_NAME})"
        )
        return None
    if not SLUG_RE.match(name):
        report(
            at("name"),
            "error",
            "name-invalid",
            f"name {name!r} must be lowercase letters, digits and single hyphens, "
            "not starting or ending with a hyphen",
        )
        return None
    if name != fallback:
        report(
            at("name"),
            "warning",
            "name-mismatch",
            f"name {name!r} differs from its folder {fallback!r}",
        )
    return name
