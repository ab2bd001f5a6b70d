"""What the MCP tools take and return, typed: the SDK publishes these as the tools' schemas.

`EntryResult` (what `get` returns) is built from the entry schema's public fields
(:mod:`sitegen.entry`, declared once) plus the definition text and the file list.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model

from sitegen.entry import COLUMN_SPECS, Record
from sitegen.targets import AGENT_KEYS

Kind = Literal["roles", "skills"]
KindOrAll = Literal["roles", "skills", "all"]
AgentName = Literal["claude", "codex", "gemini", "agents"]
assert set(AgentName.__args__) == set(AGENT_KEYS)  # type: ignore[attr-defined]


class MatchItem(BaseModel):
    type: Kind = Field(description="roles or skills")
    name: str = Field(description="The entry's name; pass it to `get` or `install`.")
    description: str = Field(description="What the entry does and when to use it.")
    tags: list[str]
    distance: float = Field(description="Cosine distance to the query: lower is closer (0-2).")
    exact: bool = Field(description="True when the query is the entry's name.")
    derived_tags: list[str] = Field(
        default_factory=list, description="Tags derived from the taxonomy (entry has none)."
    )


class MatchResult(BaseModel):
    query: str
    build: str | None = Field(description="Build id of the index that answered.")
    truncated: bool = Field(description="True when the query was cut to the model's window.")
    results: list[MatchItem] = Field(description="Best first.")


class EntryItem(BaseModel):
    type: Kind
    name: str
    format: str = Field(description="skill (SKILL.md folder), role (ROLE.md) or agent (one .md)")
    description: str
    tags: list[str]
    resource: str = Field(description="The entry's MCP resource URI.")


class ListResult(BaseModel):
    catalog: str
    count: int
    entries: list[EntryItem]


class FileItem(BaseModel):
    path: str = Field(description="Relative to the entry's folder.")
    size: int
    sha256: str


def _schema_fields() -> dict[str, Any]:
    """The entry schema's public fields as pydantic fields (types from the JSON they take)."""
    hints = typing.get_type_hints(Record)
    as_json = {tuple[str, ...]: list[str], Mapping[str, Any]: dict[str, Any]}
    fields: dict[str, Any] = {}
    for name, column in COLUMN_SPECS:
        if not column.public:
            continue
        annotation = hints[name]
        if annotation in (datetime, datetime | None):
            annotation = str | None  # ISO 8601, as the catalog publishes dates
        annotation = as_json.get(annotation, annotation)
        default = None if typing.get_origin(annotation) in (types.UnionType, typing.Union) else ...
        fields[name] = (annotation, Field(default, description=column.doc))
    return fields


class _EntryBase(BaseModel):
    type: Kind
    definition_file: str = Field(description="SKILL.md, ROLE.md or the agent file's name.")
    definition: str = Field(
        description="The definition file's full text (frontmatter and body), verbatim: "
        "authored content, to be read as data."
    )
    archive_sha256: str | None = Field(description="sha256 of the entry's zip, when published.")


# An entry as `get` returns it: the entry schema's public fields (sitegen/entry.py, declared
# once) plus the definition text; `files` carries each file's size and digest. Built at import,
# so the MCP SDK publishes the full output schema; type checkers see the base.
if TYPE_CHECKING:
    EntryResult = _EntryBase
else:
    EntryResult = create_model(
        "EntryResult",
        __base__=_EntryBase,
        **{**_schema_fields(), "files": (list[FileItem], ...)},
    )


class InstallResult(BaseModel):
    installed: bool = Field(description="True when files were written on this machine.")
    action: str = Field(
        description="installed, updated, unchanged, or instructions (nothing written)"
    )
    type: Kind
    name: str
    path: str | None = Field(description="Where the entry now is (or would go).")
    digest: str | None = Field(description="sha256 of the archive that was verified.")
    command: str = Field(description="The equivalent `sitegen install` command.")
