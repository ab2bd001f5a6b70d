"""Reading a frontmatter's fields: the pieces every format's rules share.

Each reader takes the parsed data, finds the line of a key, and reports what it cannot use
(wrong type, empty, too long) as a problem naming that line, returning a clean value or None.
Which fields a format has, and how strict it is, is :mod:`sitegen.library.rules` (skills,
roles) and :mod:`sitegen.library.agents` (agent files).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sitegen.library.frontmatter import Document, Report
from sitegen.library.model import Level

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
