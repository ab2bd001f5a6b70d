"""The rules of each definition format: the Agent Skills spec for SKILL.md, Persona's ROLE.md.

For skills the spec's reference validator (`skills-ref`, `agentskills validate`) is the
oracle: whatever it rejects is at least a warning here (an error with ``--strict``), named
after the spec's rule; whatever it accepts gets no error or warning, only notes. Lenient by
default: an entry is dropped only when it cannot be used at all (no description, a name
that cannot be a URL); other breaches are warnings and the entry is kept.

Agent files (single-file roles) have their own rules in :mod:`sitegen.library.agents`; the field
readers every format shares (description, tags, tools, metadata) are :mod:`sitegen.library.fields`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sitegen.library.fields import (
    SPEC,
    Fields,
    Lines,
    check_description,
    describe_angles,
    line_finder,
    optional_text,
    read_metadata,
    read_tags,
    read_tools,
    report_yaml_shape,
    type_name,
)
from sitegen.library.frontmatter import Document, Report
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
